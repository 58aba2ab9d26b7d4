// Who did something, as the console shows it: case authors, timeline
// entries, evidence, audit records, advisories and live changes name their
// actor as the API stores it: "user:NAME" for a person's session, an API
// token's ID for a token, "" for Tarian itself. A token is shown by its
// name, and as a token, asked of GET /api/v1/actors once a session and
// token (the IDs on a page in one request). The server names a member's
// own tokens only: a provider token is "the provider's API token" to a
// member, and a token it does not name (revoked, another member's) keeps
// its ID.
import { call } from './api';
import { t } from './i18n/index.svelte';

interface Actor {
  id: string;
  kind: string;
  name?: string;
  tenant?: string;
  provider?: boolean;
}

// known holds each token looked up: its answer, or null when the server
// named none.
let known: Record<string, Actor | null> = $state({});
const pending = new Set<string>();
const asking = new Set<string>();
let timer: ReturnType<typeof setTimeout> | undefined;
// The server's bound on one request.
const batch = 100;

function ask(id: string): void {
  if (pending.has(id) || asking.has(id)) return;
  pending.add(id);
  timer ??= setTimeout(flush, 0);
}

async function flush(): Promise<void> {
  timer = undefined;
  const ids = [...pending].slice(0, batch);
  for (const id of ids) {
    pending.delete(id);
    asking.add(id);
  }
  if (pending.size > 0) timer = setTimeout(flush, 0);
  const q = new URLSearchParams();
  for (const id of ids) q.append('id', id);
  try {
    const got = await call<{ actors: Actor[] | null }>('GET', `/api/v1/actors?${q}`);
    const byID = new Map((got.actors ?? []).map((a) => [a.id, a]));
    for (const id of ids) known[id] = byID.get(id) ?? null;
  } catch {
    // Shown by ID; asked again when next shown.
  } finally {
    for (const id of ids) asking.delete(id);
  }
}

// isToken reports whether actor names an API token (not a person, not
// Tarian, not a server job such as "system:reload").
export function isToken(actor: string): boolean {
  return actor !== '' && !actor.includes(':');
}

// who returns how actor reads: a person's user name, a token's name marked
// as a token, Tarian for "".
export function who(actor: string): string {
  if (!actor) return t('actor.tarian');
  if (actor.startsWith('user:')) return actor.slice(5);
  if (!isToken(actor)) return actor;
  const a = known[actor];
  if (a === undefined) ask(actor);
  if (a?.name) return t('actor.token', { name: a.name });
  if (a?.provider) return t('actor.providerToken');
  return t('actor.tokenID', { id: actor });
}

// forgetActors drops what the last session knew (a logout, another user).
export function forgetActors(): void {
  known = {};
  pending.clear();
}
