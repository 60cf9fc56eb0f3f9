/** Matriculas for a fleet of simulated meters. */
import { isMatricula } from '../protocol/meter-protocol.js';
import { OptionError, randomMatricula } from './options.js';

/** Consecutive matriculas from `start`, keeping its width (leading zeros). */
export function consecutiveMatriculas(start: string, count: number): string[] {
  const first = BigInt(start);
  const matriculas: string[] = [];
  for (let i = 0; i < count; i++) matriculas.push((first + BigInt(i)).toString().padStart(start.length, '0'));
  if (!matriculas.every(isMatricula)) throw new OptionError('--matricula-inicial', `${count} meters from ${start} pass 20 digits`);
  return matriculas;
}

/** `count` distinct random 8-digit matriculas. */
export function randomMatriculas(count: number): string[] {
  if (count > 90_000_000) throw new OptionError('--quantidade', 'more meters than 8-digit matriculas');
  const chosen = new Set<string>();
  while (chosen.size < count) chosen.add(randomMatricula());
  return [...chosen];
}
