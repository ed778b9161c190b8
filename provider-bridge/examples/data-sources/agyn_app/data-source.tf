# By slug: an app of this organization, or another organization's public app to install.
data "agyn_app" "example" {
  slug = "reminders"
}

output "app_id" {
  value = data.agyn_app.example.id
}
