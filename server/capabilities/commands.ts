/**
 * Commands and events: commands sent to meters and their answers (delivery,
 * retries, expiry; /medidores/{matricula}/comandos), the events meters
 * report (stored, acknowledged; /ocorrencias), and a meter's page
 * (/medidores/{matricula}). Both travel on the readings' UDP socket.
 */
import type { Logger } from 'pino';
import type { CommandStore } from '../../database/command-store.js';
import type { EventStore, MeterEvent } from '../../database/event-store.js';
import type { MeterCounterStore } from '../../database/meter-counter-store.js';
import type { Store } from '../../database/store.js';
import { ANSWER_TAG, EVENT_TAG, linesByTag } from '../../protocol/meter-commands.js';
import { DAY_MS } from '../../protocol/timestamp.js';
import type { Config } from '../config.js';
import type { ApiAccess } from '../http/api-access.js';
import { comandosRoutes, commandJson } from '../routes/comandos.js';
import { medidorRoute } from '../routes/medidores.js';
import { ocorrenciasRoute } from '../routes/ocorrencias.js';
import { CommandDelivery } from '../udp/command-delivery.js';
import { MAX_CLOCK_AHEAD_MS, type MeterAddress } from '../udp/ingest.js';
import { MeterLineGate, replayMetrics, type MeterAuthenticator, type MeterLine } from '../udp/meter-authentication.js';
import { EventIntake } from '../udp/meter-events.js';
import type { Capability } from './capability.js';
import type { FleetCapability } from './fleet.js';

/** The UDP socket, as commands and acknowledgements use it. */
export interface MeterLink {
  send(lines: readonly string[], to: MeterAddress): void;
  addressOf(matricula: string): MeterAddress | undefined;
  heardFrom(matricula: string, from: MeterAddress): void;
}

export interface CommandsDeps {
  readonly stores: { readonly store: Store; readonly commands: CommandStore; readonly events: EventStore; readonly meterCounters: MeterCounterStore };
  readonly config: Pick<Config, 'legacyTimeZone' | 'readingMaxAgeDays' | 'strangerEventsPerMinute'>;
  readonly access: ApiAccess;
  readonly logger: Logger;
  readonly authenticator: MeterAuthenticator;
  /** The readings' socket; read when a line leaves, as the socket is made after this capability. */
  readonly link: () => MeterLink;
  readonly fleet: FleetCapability;
  /** Whether stored events are sent to a webhook (their delivery starts `pendente`). */
  readonly webhook: boolean;
  /** Told of events once stored (alerts); must not throw. */
  readonly onEvents: (events: readonly MeterEvent[]) => void;
}

export interface CommandsCapability extends Capability {
  readonly delivery: CommandDelivery;
  readonly eventIntake: EventIntake;
  /** Takes a datagram of answers and events; returns how many of its lines were neither. */
  control(message: Buffer, from: MeterAddress): number;
}

export function commandsCapability({ stores, config, access, logger, authenticator, link, fleet, webhook, onEvents }: CommandsDeps): CommandsCapability {
  const { store, commands, events, meterCounters } = stores;
  const gate = new MeterLineGate(authenticator, meterCounters);
  const meterLines = {
    admit: (lines: readonly MeterLine[]) => gate.admit(lines),
    sign: (line: string, matricula: string) => authenticator.sign(line, matricula),
    send: (lines: readonly string[], to: MeterAddress) => link().send(lines, to),
    heardFrom: (matricula: string, from: MeterAddress) => link().heardFrom(matricula, from),
  };
  const hasKey = (matricula: string): boolean => authenticator.hasKey(matricula);
  const delivery = new CommandDelivery({
    commands,
    logger: logger.child({ component: 'comandos' }),
    // Delivered by the server that last heard the meter: another one's address for it is out of date.
    addressOf: (matricula) => (fleet.tracker.heardBy(matricula) === undefined ? link().addressOf(matricula) : undefined),
    ...meterLines,
    onChange: (command) => fleet.live.meterNews(command.matricula, 'comando', commandJson(command)),
  });
  const eventIntake = new EventIntake({
    events,
    delivery: webhook ? 'pendente' : 'desativada',
    logger: logger.child({ component: 'ocorrencias' }),
    timestampRules: { maxAheadMs: MAX_CLOCK_AHEAD_MS, maxAgeMs: config.readingMaxAgeDays * DAY_MS },
    known: (matricula) => fleet.tracker.heardAt(matricula) !== undefined,
    isCustomer: async (matricula) => (await store.findCustomers({ matricula, limit: 1 })).length > 0,
    strangersPerMinute: config.strangerEventsPerMinute,
    ...meterLines,
    onStored: (stored) => {
      fleet.noted(stored);
      onEvents(stored);
    },
  });
  return {
    delivery,
    eventIntake,
    control(message, from) {
      // Meters send answers and events in datagrams of their own; each line goes to its handler by its tag.
      const { groups, lines } = linesByTag(message);
      const answers = groups.get(ANSWER_TAG) ?? [];
      const reported = groups.get(EVENT_TAG) ?? [];
      if (answers.length > 0) delivery.answered(answers, from).catch((error: unknown) => logger.warn({ err: error }, 'could not judge meter answers; the meter repeats them'));
      if (reported.length > 0) eventIntake.received(reported, from);
      return lines - answers.length - reported.length;
    },
    routes: [
      ...comandosRoutes({ commands, delivery, store, access, hasKey }),
      medidorRoute({ store, commands, events, delivery, fleet: fleet.tracker, access, addressOf: (matricula) => link().addressOf(matricula), hasKey }),
      ocorrenciasRoute(events, config.legacyTimeZone, access),
    ],
    metrics: [(out) => delivery.writeMetrics(out), replayMetrics(() => delivery.counters.answersReplayed + eventIntake.counters.replayed), (out) => eventIntake.writeMetrics(out)],
    start: () => delivery.start(),
    changed(change) {
      if (change.kind === 'comando') void delivery.refresh(change.id);
    },
    // After the socket closed: events being stored when it stopped are kept; their acknowledgement is not sent, and the meter's resend is recognised.
    close: async () => {
      await Promise.all([delivery.close(), eventIntake.settle()]);
    },
  };
}
