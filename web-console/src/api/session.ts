// The signed-in operator: token (sessionStorage), identity and role from GET /me, and what the role may do.
import { useEffect, useState } from 'preact/hooks';
import { whoAmI, type Me } from './fleet.ts';
import { ApiError, getToken, onUnauthorized, setToken } from './http.ts';
import type { Role } from './types.ts';

export interface SessionState {
  /** Null while signed out. */
  me: Me | null;
  /** True while a stored token is being checked at start-up. */
  checking: boolean;
  /** Why the last session ended or sign-in failed, for the sign-in page. */
  notice: string | null;
}

let state: SessionState = { me: null, checking: getToken() !== null, notice: null };
const listeners = new Set<(s: SessionState) => void>();

function set(next: Partial<SessionState>): void {
  state = { ...state, ...next };
  for (const fn of listeners) fn(state);
}

/** Checks the token with the server and keeps it only if the server knows it. */
export async function signIn(token: string): Promise<void> {
  setToken(token.trim());
  try {
    set({ me: await whoAmI(), checking: false, notice: null });
  } catch (e) {
    setToken(null);
    const notice =
      e instanceof ApiError && e.status === 401
        ? 'The server refused this token: it is unknown or revoked. Check it, or ask an admin for a new one.'
        : `Could not sign in: ${e instanceof Error ? e.message : String(e)}`;
    set({ me: null, checking: false, notice });
    throw e;
  }
}

export function signOut(notice: string | null = null): void {
  setToken(null);
  set({ me: null, checking: false, notice });
}

onUnauthorized(() => {
  if (state.me) signOut('The server no longer accepts your token (revoked, or the server was reset). Sign in again.');
});

/** On load: a token kept from earlier in this tab is checked once. */
export function restoreSession(): void {
  const t = getToken();
  if (t) signIn(t).catch(() => undefined);
}

export function useSession(): SessionState {
  const [s, setS] = useState(state);
  useEffect(() => {
    listeners.add(setS);
    setS(state);
    return () => void listeners.delete(setS);
  }, []);
  return s;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` includes `needed` (admin ⊃ operator ⊃ viewer), mirroring the server's check. */
export const roleAllows = (role: Role | undefined, needed: Role): boolean => role !== undefined && RANK[role] >= RANK[needed];

/** Whether the signed-in operator may do what needs `needed`. The server decides anyway; this only hides what would be refused. */
export function useCan(needed: Role): boolean {
  return roleAllows(useSession().me?.role, needed);
}
