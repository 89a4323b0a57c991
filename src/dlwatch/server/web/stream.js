// The event stream, /api/v1/events: Server-Sent Events read with fetch rather than EventSource, so
// the read token goes in a header, never in the URL. Reconnects every 2 s with Last-Event-ID (from
// `headers()`), so nothing recorded meanwhile is missed.

export async function followEvents({ headers, onLive, onRefused, onFrame }) {
  for (;;) {
    try {
      const response = await fetch("/api/v1/events", { headers: headers(), cache: "no-store" });
      if (response.status === 401) {
        onRefused(); // reachable, but not ours to read without the token
        await pause(10000);
        continue;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      onLive(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          onFrame(parseFrame(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      // fall through: unreachable, or the stream broke
    }
    onLive(false);
    await pause(2000);
  }
}

// One frame: its event name, its id (or null) and its data lines joined (or null: a comment).
export function parseFrame(text) {
  let kind = "message";
  let id = null;
  const data = [];
  for (const line of text.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") kind = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  return { kind, id, data: data.length ? data.join("\n") : null };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
