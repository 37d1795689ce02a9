import { api, ApiError } from './api';
import { authToken, clearSession, saveSession, updateUser } from './session';

export async function login(username: string, password: string): Promise<void> {
  const res = await api.login(username, password);
  saveSession(res.token, res.user);
}

/** Best-effort server logout; the local session is dropped whatever the server says. */
export async function logout(): Promise<void> {
  try {
    if (authToken()) await api.logout();
  } catch {
    /* token may already be expired */
  } finally {
    clearSession();
  }
}

/** On start-up, confirm a stored token is still valid and refresh the user record. */
export async function refreshSession(): Promise<void> {
  if (!authToken()) return;
  try {
    updateUser(await api.me());
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) clearSession();
  }
}
