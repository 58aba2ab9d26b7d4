// The live stream (GET /api/v1/stream, server-sent events) as the pages
// follow it. The browser reconnects a dropped stream itself (resuming with
// Last-Event-ID); a refused one (a server restart, an ended session) is
// closed for good: reload the page's data, which finds an ended session,
// and open the stream again a little later. Either way the page's data is
// reloaded once the stream is back, and when any request reaches the
// server again after one could not: a stream that had received nothing
// has no Last-Event-ID to resume from, one that outlived a network outage
// is not told what failed meanwhile (a filter changed while away).
import { whenBack } from './connection.svelte';

export type Live = 'connecting' | 'live' | 'offline';

export interface Follow<T> {
  // url is the stream's address, asked at each (re)connection.
  url: () => string;
  // kind is the event the page wants ('alert', 'case').
  kind: string;
  // change gets each event's data; one that cannot be read is skipped
  // (the next reload shows it).
  change: (data: T) => void;
  // reload refreshes the page's data: on a reset, and before reopening a
  // refused stream.
  reload: () => unknown;
  state: (s: Live) => void;
}

// follow opens the stream and keeps it open until the function it returns
// is called.
export function follow<T>(f: Follow<T>): () => void {
  let es: EventSource | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  // lost: the stream dropped and the browser is reconnecting it itself.
  let lost = false;
  const connect = () => {
    if (stopped) return;
    es = new EventSource(f.url());
    es.onopen = () => {
      f.state('live');
      if (lost) {
        lost = false;
        Promise.resolve()
          .then(f.reload)
          .catch(() => {});
      }
    };
    es.onerror = () => {
      f.state('offline');
      if (es?.readyState === EventSource.CLOSED) {
        // Reloaded below, before the new stream opens.
        lost = false;
        retry = setTimeout(() => {
          Promise.resolve()
            .then(f.reload)
            .catch(() => {})
            .then(connect);
        }, 5000);
      } else {
        lost = true;
      }
    };
    es.addEventListener(f.kind, (ev) => {
      let data: T;
      try {
        data = JSON.parse((ev as MessageEvent).data) as T;
      } catch {
        return;
      }
      f.change(data);
    });
    es.addEventListener('reset', () => void f.reload());
  };
  connect();
  const unwatch = whenBack(() => {
    Promise.resolve()
      .then(f.reload)
      .catch(() => {});
  });
  return () => {
    unwatch();
    stopped = true;
    es?.close();
    clearTimeout(retry);
  };
}
