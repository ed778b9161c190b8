resource "agyn_organization" "acme" {
  name = "acme"
}

resource "agyn_app" "telegram" {
  organization_id = agyn_organization.acme.id
  slug            = "telegram"
  name            = "Telegram"
  permissions     = ["thread:create", "thread:write", "participant:add"]
}

resource "agyn_app_installation" "example" {
  app_id          = agyn_app.telegram.id
  organization_id = agyn_organization.acme.id
  slug            = "tg"
  configuration   = jsonencode({ chat_ids = [1001, 1002], greeting = "hello" })
}
