import { Messages, badRequest } from '../../errors.js';

/** `PUT /v1/account {"mqtt_user"}`: a name (the service checks its form), or null or "" to remove it. */
export function parseMqttUser(body: Record<string, unknown>): string | null {
  if (!('mqtt_user' in body)) throw badRequest(Messages.mandatoryField('mqtt_user'));
  const value = body.mqtt_user;
  if (value !== null && typeof value !== 'string') throw badRequest(Messages.mqttUserInvalid);
  return value;
}
