// Live updates over Socket.IO (docs/notifications.md): on every (re)connection subscribe to the rooms, then
// resynchronise by pulling; events only say what to re-read, so applying one twice is harmless.
import { io } from "socket.io-client";

export function connectLive({ token, rooms, onEvent, onSynced, onStatus, onAuthLost }) {
  const socket = io({ auth: { token }, reconnectionDelayMax: 5000 });
  const events = ["message.created", "conversation.updated", "workload.updated", "span.created", "span.updated"];
  for (const name of events) socket.on(name, (envelope) => onEvent(name, envelope));
  socket.on("connect", async () => {
    const answer = await socket.emitWithAck("subscribe", { rooms: rooms() });
    if (answer && answer.error) {
      onStatus("error", answer.error.detail || "live updates were refused");
      return;
    }
    onStatus("live");
    await onSynced();
  });
  socket.on("disconnect", (reason) => {
    if (reason === "io client disconnect") return;
    onStatus("reconnecting");
    // the server closed it on purpose (shutting down, a slow consumer, lost events): the client does not
    // come back by itself then, so ask it to
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 500 + Math.random() * 1000);
  });
  socket.on("connect_error", (error) => {
    if (error && error.data && error.data.code === "unauthenticated") {
      socket.disconnect();
      onAuthLost(error.data.detail || error.message);
    } else {
      onStatus("reconnecting");
    }
  });
  return {
    close() { socket.disconnect(); },
    async subscribe(more) { if (socket.connected) await socket.emitWithAck("subscribe", { rooms: more }); },
  };
}
