// The Agyn chat page: sign in, conversations with people and agents (live), run timelines and usage.
import "./styles.css";
import { ApiError, all, api, onAuthLost, onReachability, session } from "./api.js";
import { finishSignIn, startSignIn } from "./auth.js";
import { clear, coalesce, formatTime, h } from "./dom.js";
import { connectLive } from "./live.js";
import { renderMarkdown } from "./markdown.js";
import { showRuns } from "./runs.js";
import { showUsage } from "./usage.js";

const ORG_KEY = "agyn.organization";
const app = document.getElementById("app");

const state = {
  config: { oidc: null },
  me: null,
  organizations: [],
  organizationId: null,
  filter: "open",
  view: "chats",
  conversations: [],
  listPages: 1, // pages of 100 conversations shown; "Show more" adds one
  moreConversations: false,
  openId: null,
  messages: new Map(), // id → message, of the open conversation
  rendered: new Map(), // id → its element
  files: new Map(), // file id → metadata
  names: new Map(), // identity id → {nickname, identity_type}
  pendingFiles: [],
  live: null,
};

// ---- notices ----------------------------------------------------------------------------------------

const banner = h("div", { class: "banner", role: "status", "aria-live": "polite", hidden: true });
function notify(text, kind = "error") {
  if (!text) { banner.hidden = true; return; }
  banner.className = `banner banner-${kind}`;
  banner.textContent = text;
  banner.hidden = false;
}
function report(error) {
  console.warn(error);
  notify(error instanceof ApiError || error instanceof Error ? error.message : String(error));
}

onReachability((reachable) => {
  if (!reachable) notify("The server cannot be reached. Check your connection; the page retries by itself.");
  else if (banner.dataset.reason === "unreachable") notify(null);
  banner.dataset.reason = reachable ? "" : "unreachable";
});
onAuthLost(() => signOut("Your session has expired or the token was revoked. Sign in again."));

// ---- sign in ----------------------------------------------------------------------------------------

function renderSignIn(message) {
  const token = h("input", { id: "token", type: "password", autocomplete: "off", required: true,
    placeholder: "agyn_…", "aria-describedby": "token-help" });
  const form = h("form", { class: "card sign-in", "aria-label": "Sign in" },
    h("h1", {}, "Agyn"),
    message ? h("p", { class: "error", role: "alert" }, message) : null,
    state.config.oidc ? h("button", { type: "button", class: "primary", "data-testid": "oidc-sign-in",
      onClick: () => startSignIn(state.config.oidc).catch(report) }, "Sign in with your organization") : null,
    state.config.oidc ? h("p", { class: "muted center" }, "or") : null,
    h("label", { for: "token" }, "API token"), token,
    h("p", { id: "token-help", class: "muted" },
      "Create one with `agyn token create NAME`. It is kept for this browser tab only."),
    h("button", { type: "submit", class: state.config.oidc ? "" : "primary" }, "Sign in with token"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await signIn(token.value.trim());
    } catch (error) {
      renderSignIn(error.status === 401 ? "That token was not accepted: check it, or create a new one." : error.message);
    }
  });
  clear(app, banner, form);
  token.focus();
}

async function signIn(token) {
  state.me = await api("/me", { token });
  session.token = token;
  await start();
}

function signOut(message) {
  state.live?.close();
  state.live = null;
  session.token = null;
  state.me = null;
  state.openId = null;
  renderSignIn(message);
}

// ---- the signed-in page -----------------------------------------------------------------------------

const ui = {};

function layout() {
  ui.orgSelect = h("select", { "aria-label": "Organization", onChange: (e) => selectOrganization(e.target.value) });
  ui.status = h("span", { class: "live-status", "data-testid": "live-status", dataset: { state: "connecting" } }, "connecting…");
  ui.list = h("ul", { class: "conversations", "aria-label": "Conversations", "data-testid": "conversations" });
  ui.filters = h("div", { class: "filters", role: "tablist", "aria-label": "Filter" },
    ["open", "resolved", "all"].map((filter) => h("button", {
      role: "tab", dataset: { filter }, "aria-selected": String(filter === state.filter),
      onClick: () => { state.filter = filter; state.listPages = 1; renderFilters(); refreshList(); },
    }, filter[0].toUpperCase() + filter.slice(1))));
  ui.conversation = h("section", { class: "conversation", "aria-label": "Conversation" });
  ui.usage = h("section", { class: "usage", "aria-label": "Usage", hidden: true });
  ui.runs = h("dialog", { class: "runs-dialog", "aria-label": "Run timeline" },
    h("header", {}, h("h2", {}, "Run timeline"),
      h("button", { class: "icon", "aria-label": "Close", onClick: () => ui.runs.close() }, "✕")),
    h("div", { class: "dialog-body" }));
  ui.newDialog = h("dialog", { class: "new-dialog", "aria-label": "New conversation" });
  const nav = h("nav", { class: "views" },
    h("button", { dataset: { view: "chats" }, onClick: () => setView("chats") }, "Chats"),
    h("button", { dataset: { view: "usage" }, onClick: () => setView("usage") }, "Usage"));
  clear(app,
    h("header", { class: "topbar" },
      h("strong", { class: "brand" }, "Agyn"), ui.orgSelect, nav, ui.status,
      h("span", { class: "me", "data-testid": "me" }, state.me.username ? `@${state.me.username}` : state.me.name || "signed in"),
      h("button", { onClick: () => signOut(), "data-testid": "sign-out" }, "Sign out")),
    banner,
    h("main", { class: "chats" },
      h("aside", { class: "sidebar" },
        h("div", { class: "sidebar-head" }, ui.filters,
          h("button", { class: "primary", "data-testid": "new-conversation", onClick: openNewConversation }, "New")),
        ui.list),
      ui.conversation),
    ui.usage, ui.runs, ui.newDialog);
  renderConversation();
}

function setView(view) {
  state.view = view;
  document.querySelector("main.chats").hidden = view !== "chats";
  ui.usage.hidden = view !== "usage";
  for (const button of document.querySelectorAll("nav.views button")) {
    button.setAttribute("aria-current", String(button.dataset.view === view));
  }
  if (view === "usage") showUsage(ui.usage, state.organizationId).catch(report);
}

function renderFilters() {
  for (const tab of ui.filters.children) tab.setAttribute("aria-selected", String(tab.dataset.filter === state.filter));
}

function setLiveStatus(value, detail) {
  ui.status.dataset.state = value;
  ui.status.textContent = { live: "live", reconnecting: "reconnecting…", error: "offline" }[value] || value;
  if (value === "reconnecting") notify("Connection lost; reconnecting…", "warning");
  else if (value === "live" && banner.classList.contains("banner-warning")) notify(null);
  if (detail) notify(detail);
}

async function start() {
  state.organizations = await all("/api/v1/organizations");
  if (!state.organizations.length) {
    clear(app, h("div", { class: "card" }, h("h1", {}, "No organization yet"),
      h("p", {}, "You are not a member of any organization. Ask an owner to add you, then reload."),
      h("button", { onClick: () => signOut() }, "Sign out")));
    return;
  }
  const saved = sessionStorage.getItem(ORG_KEY);
  state.organizationId = state.organizations.some((o) => o.id === saved) ? saved : state.organizations[0].id;
  layout();
  clear(ui.orgSelect, state.organizations.map((o) => h("option", { value: o.id, selected: o.id === state.organizationId }, o.name)));
  setView("chats");
  const opened = new URLSearchParams(location.hash.slice(1)).get("c");
  if (opened) state.openId = opened;
  state.live = connectLive({
    token: session.token,
    rooms: () => ["thread_participant:me", `organization:${state.organizationId}`],
    onEvent,
    onSynced: resync,
    onStatus: setLiveStatus,
    onAuthLost: () => signOut("Your session has expired or the token was revoked. Sign in again."),
  });
  await resync();
}

async function selectOrganization(id) {
  state.organizationId = id;
  sessionStorage.setItem(ORG_KEY, id);
  state.openId = null;
  state.names.clear();
  await state.live?.subscribe([`organization:${id}`]);
  renderConversation();
  await resync();
  if (state.view === "usage") showUsage(ui.usage, id).catch(report);
}

// ---- sync: pull what is shown; events only say what to pull again --------------------------------------

const refreshList = coalesce(async () => {
  try {
    const conversations = [];
    let token = null;
    for (let pages = 0; pages < state.listPages; pages++) {
      const query = new URLSearchParams({ organization_id: state.organizationId, status: state.filter, page_size: "100" });
      if (token) query.set("page_token", token);
      const page = await api(`/api/v1/conversations?${query}`);
      conversations.push(...page.items);
      token = page.next_page_token;
      if (!token) break;
    }
    state.conversations = conversations;
    state.moreConversations = Boolean(token);
    await learnNames(conversations.flatMap((c) => [...c.participants, c.last_message?.sender_id].filter(Boolean)));
    renderList();
    renderConversationHeader();
  } catch (error) { report(error); }
});

const refreshMessages = coalesce(async () => {
  const id = state.openId;
  if (!id) return;
  try {
    // from the page last seen on: a conversation's history is pulled once, then only its tail
    const items = [];
    let from = state.messagesFrom;
    for (;;) {
      const query = new URLSearchParams({ page_size: "100" });
      if (from) query.set("page_token", from);
      const page = await api(`/api/v1/conversations/${id}/messages?${query}`);
      items.push(...page.items);
      if (!page.next_page_token) break;
      from = page.next_page_token;
    }
    if (id !== state.openId) return;
    state.messagesFrom = from;
    let added = false;
    for (const message of items) {
      if (!state.messages.has(message.id)) added = true;
      state.messages.set(message.id, message);
    }
    await learnNames(items.map((m) => m.sender_id));
    if (added) renderMessages();
    if (added && document.visibilityState === "visible") await markRead(id);
  } catch (error) {
    if (error.status === 404) { closeConversation("That conversation is not there (deleted, or not yours)."); return; }
    report(error);
  }
});

async function resync() {
  await Promise.all([refreshList(), state.openId ? openConversation(state.openId, { quiet: true }) : null]);
}

function onEvent(name, envelope) {
  const payload = envelope.payload || {};
  if (name === "message.created" || name === "conversation.updated") {
    const about = payload.thread_id || payload.conversation_id;
    if (about && about === state.openId) {
      // what is on screen first; the list (a heavier query) after
      const shown = name === "message.created" ? refreshMessages() : refreshOpenConversation();
      shown.finally(refreshList);
    } else {
      refreshList();
    }
  } else if (name === "workload.updated") {
    refreshList();
  }
}

async function markRead(id) {
  const answer = await api(`/api/v1/conversations/${id}/read`, { method: "POST" });
  // a list pulled before this read may still count them: pull it again
  if (answer.acked || current()?.unread_count) await refreshList();
}

async function learnNames(ids) {
  const unknown = [...new Set(ids)].filter((id) => !state.names.has(id));
  if (!unknown.length) return;
  for (let i = 0; i < unknown.length; i += 100) {
    const query = new URLSearchParams();
    for (const id of unknown.slice(i, i + 100)) query.append("identity_id", id);
    const found = await api(`/api/v1/organizations/${state.organizationId}/nicknames?${query}`);
    for (const item of found.items) state.names.set(item.identity_id, item);
  }
  for (const id of unknown) if (!state.names.has(id)) state.names.set(id, null);
}

function nameOf(id) {
  if (id === state.me.identity_id) return "you";
  const known = state.names.get(id);
  return known ? `@${known.nickname}` : id.slice(0, 8);
}

function isAgent(id) {
  return state.names.get(id)?.identity_type === "agent";
}

// ---- the list ---------------------------------------------------------------------------------------

function renderList() {
  if (!state.conversations.length) {
    clear(ui.list, h("li", { class: "empty muted" }, state.filter === "open" ? "No open conversations. Start one with New." : "Nothing here."));
    return;
  }
  clear(ui.list, state.conversations.map((c) => {
    const others = c.participants.filter((p) => p !== state.me.identity_id).map(nameOf).join(", ");
    return h("li", {},
      h("button", {
        class: `conversation-item${c.id === state.openId ? " selected" : ""}${c.unread_count ? " unread" : ""}`,
        "data-testid": "conversation-item", dataset: { id: c.id, status: c.status },
        "aria-current": c.id === state.openId ? "true" : null,
        onClick: () => openConversation(c.id),
      },
        h("span", { class: "item-top" },
          h("span", { class: "summary" }, c.summary || others || "(no summary)"),
          c.unread_count ? h("span", { class: "badge", "data-testid": "unread-badge", "aria-label": `${c.unread_count} unread` }, c.unread_count) : null),
        h("span", { class: "item-bottom muted" },
          c.activity_status ? h("span", { class: `activity activity-${c.activity_status}`, "data-testid": "activity" }, c.activity_status) : null,
          c.status === "resolved" ? h("span", { class: "resolved-tag" }, "resolved") : null,
          c.last_message ? `${nameOf(c.last_message.sender_id)}: ${c.last_message.preview}` : others)));
  }), state.moreConversations ? h("li", {}, h("button", { class: "link more", onClick: () => { state.listPages += 1; refreshList(); } },
    "Show more")) : null);
}

// ---- one conversation -------------------------------------------------------------------------------

async function openConversation(id, { quiet = false } = {}) {
  if (id !== state.openId) {
    state.openId = id;
    state.editingSummary = null;
    state.messages = new Map();
    state.rendered = new Map();
    state.messagesFrom = null; // the page token of the last page of messages pulled
    state.pendingFiles = [];
    history.replaceState(null, "", `#c=${id}`);
  }
  document.body.classList.add("show-conversation");
  try {
    const conversation = await api(`/api/v1/conversations/${id}`);
    if (id !== state.openId) return;
    upsertConversation(conversation);
    await learnNames(conversation.participants);
    renderConversation();
    renderList();
    await refreshMessages();
    await markRead(id);
  } catch (error) {
    if (error.status === 404) closeConversation(quiet ? null : "That conversation is not there (deleted, or not yours).");
    else report(error);
  }
}

async function refreshOpenConversation() {
  try {
    upsertConversation(await api(`/api/v1/conversations/${state.openId}`));
    renderConversationHeader();
  } catch (error) { report(error); }
}

function upsertConversation(conversation) {
  const index = state.conversations.findIndex((c) => c.id === conversation.id);
  if (index >= 0) state.conversations[index] = { ...state.conversations[index], ...conversation };
  else state.conversationCache = conversation;
}

function current() {
  return state.conversations.find((c) => c.id === state.openId) ||
    (state.conversationCache?.id === state.openId ? state.conversationCache : null);
}

function closeConversation(message) {
  state.openId = null;
  state.editingSummary = null;
  history.replaceState(null, "", "/");
  document.body.classList.remove("show-conversation");
  renderConversation();
  renderList();
  if (message) notify(message);
}

function renderConversation() {
  if (!ui.conversation) return;
  if (!state.openId) {
    clear(ui.conversation, h("div", { class: "placeholder muted" }, "Pick a conversation, or start one with New."));
    return;
  }
  ui.header = h("header", { class: "conversation-head" });
  ui.messages = h("ol", { class: "messages", "aria-label": "Messages", "aria-live": "polite", "data-testid": "messages" });
  ui.attachments = h("div", { class: "pending-files" });
  const input = h("textarea", { rows: 2, placeholder: "Write a message (Markdown). Enter sends, Shift+Enter adds a line.",
    "aria-label": "Message", "data-testid": "composer" });
  const file = h("input", { type: "file", multiple: true, hidden: true, "data-testid": "attach-input",
    onChange: (e) => { addFiles([...e.target.files]); e.target.value = ""; } });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(input);
    }
  });
  const composer = h("form", { class: "composer", onSubmit: (e) => { e.preventDefault(); send(input); } },
    ui.attachments,
    h("div", { class: "composer-row" },
      h("button", { type: "button", title: "Attach files", onClick: () => file.click() }, "Attach"),
      file, input, h("button", { type: "submit", class: "primary", "data-testid": "send" }, "Send")));
  clear(ui.conversation, ui.header, ui.messages, composer);
  renderConversationHeader();
  renderMessages();
  renderPendingFiles();
}

function renderConversationHeader() {
  const c = current();
  if (!c || !ui.header || state.editingSummary === c.id) return; // live updates wait while the summary is edited
  const title = h("h2", { class: "conversation-title", "data-testid": "conversation-title" }, c.summary || "(no summary)");
  const rename = h("button", { class: "link", onClick: () => editSummary(c) }, "Rename");
  const toggle = h("button", { "data-testid": c.status === "open" ? "resolve" : "reopen",
    onClick: () => setStatus(c, c.status === "open" ? "resolved" : "open") }, c.status === "open" ? "Resolve" : "Reopen");
  clear(ui.header,
    h("button", { class: "icon back", "aria-label": "Back to the list", onClick: () => closeConversation() }, "←"),
    h("div", { class: "conversation-meta" }, title,
      h("span", { class: "muted" }, c.participants.map(nameOf).join(", "),
        c.activity_status ? h("span", { class: `activity activity-${c.activity_status}` }, c.activity_status) : null)),
    rename, toggle);
}

function editSummary(c) {
  const input = h("input", { value: c.summary || "", maxlength: 200, "aria-label": "Summary" });
  const done = () => { state.editingSummary = null; renderConversationHeader(); };
  const form = h("form", { class: "rename" }, input, h("button", { class: "primary" }, "Save"),
    h("button", { type: "button", onClick: done }, "Cancel"));
  input.addEventListener("keydown", (event) => { if (event.key === "Escape") done(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      upsertConversation(await api(`/api/v1/conversations/${c.id}`, { method: "PATCH", body: { summary: input.value.trim() || null } }));
      done();
      refreshList();
    } catch (error) { report(error); }
  });
  state.editingSummary = c.id;
  ui.header.querySelector(".conversation-title").replaceWith(form);
  input.focus();
}

async function setStatus(c, status) {
  try {
    upsertConversation(await api(`/api/v1/conversations/${c.id}`, { method: "PATCH", body: { status } }));
    renderConversationHeader();
    await refreshList();
  } catch (error) { report(error); }
}

function renderMessages() {
  if (!ui.messages) return;
  const ordered = [...state.messages.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1));
  const nearBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
  // a message never changes: render each once (Markdown and sanitizing are the costly part), then place
  const nodes = ordered.map((m) => {
    let node = state.rendered.get(m.id);
    if (!node) {
      node = messageNode(m);
      state.rendered.set(m.id, node);
    }
    return node;
  });
  if (nodes.some((node, i) => ui.messages.children[i] !== node) || ui.messages.children.length !== nodes.length) {
    ui.messages.replaceChildren(...nodes);
    if (nearBottom || ordered.length) ui.messages.scrollTop = ui.messages.scrollHeight;
  }
}

function messageNode(m) {
  const mine = m.sender_id === state.me.identity_id;
  const body = h("div", { class: "body" });
  body.innerHTML = renderMarkdown(m.body); // sanitized by DOMPurify
  return h("li", { class: `message${mine ? " mine" : ""}`, "data-testid": "message", dataset: { id: m.id, sender: m.sender_id } },
    h("div", { class: "message-head" }, h("strong", {}, nameOf(m.sender_id)),
      h("time", { datetime: m.created_at, class: "muted" }, formatTime(m.created_at)),
      isAgent(m.sender_id) ? h("button", { class: "link", "data-testid": "view-run",
        onClick: () => showRuns(ui.runs, state.openId, m, state.organizationId) }, "View run") : null),
    body,
    m.file_ids?.length ? h("div", { class: "files" }, m.file_ids.map(attachment)) : null);
}

async function send(input) {
  const text = input.value.trim();
  if (!text && !state.pendingFiles.length) return;
  const id = state.openId;
  if (state.pendingFiles.some((f) => !f.uploaded)) { notify("Wait for the attachments to finish uploading.", "warning"); return; }
  const files = state.pendingFiles;
  // clear at once: what is typed while this one is on its way belongs to the next message
  input.value = "";
  state.pendingFiles = [];
  renderPendingFiles();
  try {
    const message = await api(`/api/v1/conversations/${id}/messages`, {
      method: "POST", headers: { "Idempotency-Key": crypto.randomUUID() },
      body: { body: text || files.map((f) => f.file.name).join(", "), file_ids: files.map((f) => f.uploaded.id) },
    });
    for (const f of files) state.files.set(f.uploaded.id, f.uploaded);
    if (id === state.openId) {
      state.messages.set(message.id, message);
      renderMessages();
    }
    refreshList();
  } catch (error) {
    if (id === state.openId && !input.value) {
      input.value = text; // nothing lost: try again
      state.pendingFiles = files;
      renderPendingFiles();
    }
    report(error);
  }
}

// ---- attachments ------------------------------------------------------------------------------------

function addFiles(files) {
  for (const file of files) {
    const pending = { file, uploaded: null, error: null };
    state.pendingFiles.push(pending);
    const form = new FormData();
    form.append("file", file, file.name);
    api(`/api/v1/files?organization_id=${state.organizationId}`, { method: "POST", body: form })
      .then((uploaded) => { pending.uploaded = uploaded; })
      .catch((error) => {
        pending.error = error.status === 404 ? "file uploads are not available on this server" : error.message;
        state.pendingFiles = state.pendingFiles.filter((p) => p !== pending);
        notify(`${file.name}: ${pending.error}`);
      })
      .finally(renderPendingFiles);
  }
  renderPendingFiles();
}

function renderPendingFiles() {
  if (!ui.attachments) return;
  clear(ui.attachments, state.pendingFiles.map((p) => h("span", { class: "chip", "data-testid": "pending-file" },
    p.file.name, p.uploaded ? " ✓" : " …",
    h("button", { type: "button", class: "icon", "aria-label": `Remove ${p.file.name}`, onClick: () => {
      state.pendingFiles = state.pendingFiles.filter((x) => x !== p);
      renderPendingFiles();
    } }, "✕"))));
}

function attachment(fileId) {
  const holder = h("div", { class: "file", "data-testid": "attachment", dataset: { id: fileId } }, "…");
  (async () => {
    let meta = state.files.get(fileId);
    if (!meta) {
      meta = await api(`/api/v1/files/${fileId}`);
      state.files.set(fileId, meta);
    }
    if (meta.content_type?.startsWith("image/")) {
      // <img> cannot send the token: fetch through the media proxy, show the bytes
      const response = await api(`/media/proxy?${new URLSearchParams({ url: `agyn://file/${fileId}`, size: "640" })}`, { raw: true });
      const url = URL.createObjectURL(await response.blob());
      clear(holder, h("img", { src: url, alt: meta.filename, loading: "lazy", "data-testid": "attachment-image" }));
    } else {
      clear(holder, h("button", { class: "link", "data-testid": "attachment-download", onClick: () => download(fileId, meta.filename) }, `⬇ ${meta.filename}`),
        h("span", { class: "muted" }, ` ${formatBytes(meta.size_bytes)}`));
    }
  })().catch(() => clear(holder, h("span", { class: "muted" }, "attachment unavailable")));
  return holder;
}

async function download(fileId, filename) {
  try {
    // a signed URL works without the token; a `download` link saves it without leaving the page
    const signed = await api(`/api/v1/files/${fileId}/url`, { method: "POST" });
    const link = h("a", { href: signed.url, download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) { report(error); }
}

function formatBytes(size) {
  return size > 1048576 ? `${(size / 1048576).toFixed(1)} MB` : size > 1024 ? `${Math.round(size / 1024)} kB` : `${size} B`;
}

// ---- new conversation -------------------------------------------------------------------------------

function openNewConversation() {
  const picked = [];
  const chips = h("div", { class: "chips", "data-testid": "picked" });
  const suggestions = h("ul", { class: "suggestions", role: "listbox", "aria-label": "Suggestions" });
  const who = h("input", { id: "participants", autocomplete: "off", placeholder: "@nickname", "aria-label": "Add people and agents by @nickname",
    "aria-autocomplete": "list", "data-testid": "participant-input" });
  const first = h("textarea", { rows: 3, placeholder: "First message (optional)", "aria-label": "First message", "data-testid": "first-message" });
  const renderChips = () => clear(chips, picked.map((p) => h("span", { class: "chip" }, `@${p.nickname}`,
    h("button", { type: "button", class: "icon", "aria-label": `Remove @${p.nickname}`,
      onClick: () => { picked.splice(picked.indexOf(p), 1); renderChips(); } }, "✕"))));
  const pick = (item) => {
    if (!picked.some((p) => p.identity_id === item.identity_id)) picked.push(item);
    who.value = "";
    clear(suggestions);
    renderChips();
    who.focus();
  };
  let lookup = 0;
  who.addEventListener("input", async () => {
    const prefix = who.value.trim().replace(/^@/, "").toLowerCase();
    const ticket = ++lookup;
    if (!/^[a-z0-9_-]*$/.test(prefix)) { clear(suggestions); return; }
    const found = await api(`/api/v1/organizations/${state.organizationId}/nicknames?prefix=${encodeURIComponent(prefix)}`).catch(report);
    if (ticket !== lookup || !found) return;
    clear(suggestions, found.items.filter((i) => i.identity_id !== state.me.identity_id).slice(0, 8).map((item) =>
      h("li", { role: "option" }, h("button", { type: "button", "data-testid": "suggestion", onClick: () => pick(item) },
        `@${item.nickname}`, h("span", { class: "muted" }, ` ${item.identity_type}`)))));
  });
  who.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      suggestions.querySelector("button")?.click();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      suggestions.querySelector("button")?.focus();
    }
  });
  const form = h("form", { method: "dialog", class: "new-form" },
    h("h2", {}, "New conversation"),
    h("label", { for: "participants" }, "With"), chips, who, suggestions,
    first,
    h("div", { class: "actions" },
      h("button", { type: "button", onClick: () => ui.newDialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary", "data-testid": "start-conversation" }, "Start")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await api("/api/v1/conversations", { method: "POST", body: {
        organization_id: state.organizationId, participants: picked.map((p) => p.identity_id),
        message: first.value.trim() || null,
      } });
      ui.newDialog.close();
      if (state.filter === "resolved") { state.filter = "open"; renderFilters(); }
      await refreshList();
      await openConversation(created.id);
    } catch (error) { report(error); }
  });
  clear(ui.newDialog, form);
  ui.newDialog.showModal();
  who.focus();
  who.dispatchEvent(new Event("input"));
}

// ---- boot -------------------------------------------------------------------------------------------

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.openId && current()?.unread_count) markRead(state.openId).catch(report);
});

async function boot() {
  try {
    state.config = await (await fetch("/web/config.json")).json();
  } catch {
    clear(app, h("div", { class: "card error" }, "The server cannot be reached. Reload when it is back."));
    return;
  }
  try {
    const returned = state.config.oidc ? await finishSignIn(state.config.oidc) : null;
    const token = returned || session.token;
    if (!token) { renderSignIn(); return; }
    await signIn(token);
  } catch (error) {
    session.token = null;
    renderSignIn(error.status === 401 ? "Your session has expired. Sign in again." : error.message);
  }
}

boot();
