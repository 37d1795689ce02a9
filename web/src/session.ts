// Login session kept in sessionStorage (cleared when the tab closes).
import type { User } from './api';
import { createStore, useStore } from './store';

const TOKEN_KEY = 'thanglong.token';
const USER_KEY = 'thanglong.user';

function read(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function readUser(): User | null {
  const raw = read(USER_KEY);
  if (!raw || !read(TOKEN_KEY)) return null;
  try {
    return JSON.parse(raw) as User;
  } catch {
    return null;
  }
}

export const userStore = createStore<User | null>(readUser());

export function authToken(): string | null {
  return read(TOKEN_KEY);
}

export function saveSession(token: string, user: User): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  } catch {
    /* storage unavailable: the session lasts until reload */
  }
  userStore.set(user);
}

export function updateUser(user: User): void {
  try {
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  } catch {
    /* ignore */
  }
  userStore.set(user);
}

export function clearSession(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  } catch {
    /* ignore */
  }
  userStore.set(null);
}

export function useUser(): User | null {
  return useStore(userStore);
}

export const ADMIN_ROLES = ['city_admin', 'agency_admin'];

export function isAdmin(user: User | null): boolean {
  return !!user && ADMIN_ROLES.includes(user.role);
}
