import { Gauge, type Registry } from 'prom-client';
import type { UpdateStateCounter } from '../storage/sqlite/update-state-counts.js';

/** `ota_devices{update_state}` in `registry`, counted by `devices` when it is scraped. */
export function deviceStateGauge(devices: UpdateStateCounter, registry: Registry): void {
  new Gauge({
    name: 'ota_devices',
    help: 'Devices by update state: up-to-date (runs the version it is served), pending (runs another), unknown (has not reported a version, or has nothing to be served).',
    labelNames: ['update_state'],
    registers: [registry],
    async collect() {
      const counts = await devices.counts();
      for (const [state, n] of Object.entries(counts)) this.set({ update_state: state }, n);
    },
  });
}
