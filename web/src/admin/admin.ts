// What the administration tabs share: the member list's shape, the roles
// each admin may grant, and the message for a refused or failed request.
import { APIError } from '../api';
import type { Msg } from '../i18n/index.svelte';

export interface Member {
  id: string;
  name: string;
  created: string;
}

// The roles a person may hold, most powerful first (ingest is for tokens).
export const personRoles = ['provider-admin', 'provider-analyst', 'tenant-admin', 'tenant-analyst', 'tenant-viewer'];

// grantable is what an admin may give a user (users) or a token (tokens):
// internal/auth's CanManageUser and CanCreateToken.
export function grantable(role: string, kind: 'user' | 'token'): string[] {
  if (role === 'provider-admin') return kind === 'token' ? [...personRoles, 'ingest'] : personRoles;
  return kind === 'token' ? ['tenant-analyst', 'tenant-viewer', 'ingest'] : ['tenant-admin', 'tenant-analyst', 'tenant-viewer'];
}

export function isProviderRole(role: string): boolean {
  return role.startsWith('provider-');
}

// failure is the message for err: the server's own words when it refused
// (they say why), else the key given (a network error, say).
export function failure(err: unknown, key: string): Msg {
  if (err instanceof APIError) return ['admin.refused', { message: err.message }];
  return [key];
}
