import { HttpError, Messages, badRequest, conflict, notFound, unauthorized } from '../errors.js';
import { newObjectId, nowIso } from '../ids.js';
import {
  NO_PASSWORD_HASH,
  hashPassword,
  hashSecret,
  newBearerSecret,
  passwordMatches,
} from '../secrets.js';
import type { LoginThrottle } from './login-throttle.js';
import type { StoredToken, TokenStore } from '../storage/sqlite/tokens.js';
import type { Role, User, UserStore } from '../storage/sqlite/users.js';

/** IoTaaP's session tokens last 30 days; ours too, so scripts see the same expiry. */
const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** A whole level of the devices' topics: no level separator, no wildcards, no white space. */
const MQTT_USER = /^[^/+#\s\p{Cc}]{1,64}$/u;

export class AuthService {
  constructor(
    private readonly users: UserStore,
    private readonly tokens: TokenStore,
    private readonly throttle: LoginThrottle,
  ) {}

  /** Creates a user and a first API key (shown once). */
  async addUser(
    email: string,
    role: Role,
    password: string | null,
    mqttUser: string | null = null,
  ): Promise<{ user: User; apiKey: string }> {
    if (!EMAIL.test(email) || email.length > 254) throw badRequest(Messages.emailInvalid(email));
    if (this.users.byEmail(email)) throw conflict(Messages.userExists(email));
    if (password !== null && password.length < 8) {
      throw badRequest(Messages.passwordTooShort);
    }
    const mqtt = this.freeMqttUser(mqttUser, null);
    const user: User = {
      id: newObjectId(),
      email,
      role,
      passwordHash: password === null ? null : await hashPassword(password),
      createdAt: nowIso(),
      mqttUser: mqtt,
    };
    this.users.insert(user);
    return { user, apiKey: this.createApiKey(user) };
  }

  userByEmail(email: string): User {
    const user = this.users.byEmail(email);
    if (!user) throw notFound(Messages.noSuchUser(email));
    return user;
  }

  /** `PUT /v1/account {"mqtt_user"}`, `ota-registry user set --mqtt-user`: null or "" removes it. */
  setMqttUser(user: User, mqttUser: string | null): User {
    const value = this.freeMqttUser(mqttUser, user.id);
    this.users.setMqttUser(user.id, value);
    return { ...user, mqttUser: value };
  }

  /** Every MQTT user name set on an account (the topics the registry subscribes to). */
  mqttUsers(): string[] {
    return this.users.mqttUsers();
  }

  hasUsers(): boolean {
    return this.users.count() > 0;
  }

  createApiKey(user: User): string {
    const secret = newBearerSecret('api-key');
    this.tokens.insert({
      hash: hashSecret(secret),
      userId: user.id,
      kind: 'api-key',
      createdAt: nowIso(),
      expiresAt: null,
    });
    return secret;
  }

  /** Returns false when the key is unknown or already revoked. */
  revokeApiKey(secret: string): boolean {
    const stored = this.tokens.byHash(hashSecret(secret));
    if (!stored || stored.kind !== 'api-key') return false;
    return this.tokens.revoke(stored.hash, nowIso());
  }

  /**
   * POST /v1/auth/login: a 30-day session token for a correct email and password, from the
   * client at `address`. Throttled (429) after too many failures for the email or the address;
   * every login that is not throttled costs one scrypt, known email or not.
   */
  async login(
    email: string,
    password: string,
    address: string,
  ): Promise<{ user: User; token: string }> {
    this.throttle.check(email, address);
    const user = this.users.byEmail(email);
    const ok = await this.throttle.limited(async () => {
      const matches = await passwordMatches(password, user?.passwordHash ?? NO_PASSWORD_HASH);
      return matches && user?.passwordHash != null;
    });
    if (!user || !ok) {
      this.throttle.failed(email, address);
      throw new HttpError(401, Messages.loginWrong, { error: Messages.loginWrong });
    }
    const token = newBearerSecret('session');
    const now = Date.now();
    this.tokens.insert({
      hash: hashSecret(token),
      userId: user.id,
      kind: 'session',
      createdAt: nowIso(now),
      expiresAt: nowIso(now + SESSION_LIFETIME_MS),
    });
    return { user, token };
  }

  /** The user behind a bearer secret; 401 for anything unknown, expired or revoked. */
  authenticate(secret: string): User {
    return this.live(secret).user;
  }

  /**
   * POST /v1/auth/logout: the session token stops working at once. An API key is refused
   * (400) and keeps working: CI jobs hold keys, and a dashboard's logout must not end them;
   * `ota-registry key revoke` does that on purpose.
   */
  logout(secret: string): void {
    const { stored } = this.live(secret);
    if (stored.kind !== 'session') throw new HttpError(400, Messages.logoutApiKey);
    this.tokens.revoke(stored.hash, nowIso());
  }

  private live(secret: string): { stored: StoredToken; user: User } {
    const stored = this.tokens.byHash(hashSecret(secret));
    if (!stored || stored.revokedAt !== null) throw unauthorized();
    if (stored.expiresAt !== null && stored.expiresAt <= nowIso()) throw unauthorized();
    const user = this.users.byId(stored.userId);
    if (!user) throw unauthorized();
    return { stored, user };
  }

  /** A valid MQTT user name that no other account has, or null to have none. */
  private freeMqttUser(value: string | null, userId: string | null): string | null {
    if (value === null || value === '') return null;
    if (!MQTT_USER.test(value)) {
      throw badRequest(Messages.mqttUserInvalid);
    }
    const holder = this.users.byMqttUser(value);
    if (holder && holder.id !== userId) throw conflict(Messages.mqttUserTaken(value));
    return value;
  }
}
