// The operations feed (GET /api/v1/ops/events, text/event-stream) read with fetch: EventSource cannot
// send the bearer token this API authorises with, so this reader speaks the same protocol itself —
// "id:", "event:", "data:" and "retry:" fields, comments ignored, and on a dropped connection it
// reconnects after the server's retry interval with the Last-Event-ID header, as EventSource would.
import { authToken } from '../../session';

export interface FeedEvent {
  id: string;
  event: string;
  data: string;
}

export interface FeedCallbacks {
  onEvent: (e: FeedEvent) => void;
  onState: (state: 'connecting' | 'open' | 'closed' | 'denied') => void;
}

/** Follows the feed until `signal` aborts. */
export async function followFeed(cb: FeedCallbacks, signal: AbortSignal): Promise<void> {
  let lastId = '';
  let retryMs = 3000;
  while (!signal.aborted) {
    cb.onState('connecting');
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      const token = authToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      if (lastId) headers['Last-Event-ID'] = lastId;
      const res = await fetch('/api/v1/ops/events', { headers, signal, cache: 'no-store', credentials: 'same-origin' });
      if (res.status === 401 || res.status === 403) {
        cb.onState('denied');
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      cb.onState('open');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let event: FeedEvent = { id: '', event: 'message', data: '' };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (event.data) {
              if (event.id) lastId = event.id;
              cb.onEvent({ ...event, data: event.data.replace(/\n$/, '') });
            }
            event = { id: '', event: 'message', data: '' };
            continue;
          }
          if (line.startsWith(':')) continue;  // a comment (heartbeat)
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') event.id = val;
          else if (field === 'event') event.event = val;
          else if (field === 'data') event.data += `${val}\n`;
          else if (field === 'retry' && /^\d+$/.test(val)) retryMs = Number(val);
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    cb.onState('closed');
    await new Promise((r) => setTimeout(r, retryMs));
  }
}
