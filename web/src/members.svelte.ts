// The members' display names, one lookup for the whole console: pages show
// "Riverside Council", not `riverside`, and pick members from the same
// list. GET /api/v1/tenants answers a provider's staff with every member
// and a member's users with their own member alone, so a member never
// learns another's name; an ID without a name (unknown, not yet loaded,
// or a member that has none) is shown as it is.
import { api, type Tenant } from './api';

// A failed lookup is asked again, at most this often, when a name is next
// wanted.
const retryAfter = 30000;

export const members = $state({
  // list is every member the session may know of, in the server's order.
  list: [] as Tenant[],
});
let names: Record<string, string> = $state.raw({});
let asked: Promise<void> | null = null;
let failed = 0;

// loadMembers asks the server for the members once a session (again when
// fresh is set: a member was just added).
export function loadMembers(fresh = false): Promise<void> {
  if (asked && !fresh) return asked;
  const got = api.tenants().then(
    (r) => {
      if (asked !== got) return;
      members.list = r.tenants ?? [];
      names = Object.fromEntries(members.list.filter((m) => m.name).map((m) => [m.id, m.name]));
    },
    () => {
      if (asked === got) failed = Date.now();
    },
  );
  asked = got;
  failed = 0;
  return got;
}

// memberName returns member id's display name, or id when it has none
// the session may know.
export function memberName(id: string): string {
  if (!id) return id;
  if (!asked || (failed && Date.now() - failed > retryAfter)) void loadMembers(true);
  return names[id] || id;
}

// forgetMembers drops what the last session knew (a logout, another user).
export function forgetMembers(): void {
  asked = null;
  failed = 0;
  members.list = [];
  names = {};
}
