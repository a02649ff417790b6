import {randomInt} from 'node:crypto'

/**
 * Generated container names, docker's way: an adjective and the surname of a notable
 * scientist or engineer ("patient_hopper"); on a clash a number is appended. Our own
 * lists. Names are also hostnames by default, so only [a-z_] and digits.
 */

const ADJECTIVES = [
  'able', 'agile', 'amber', 'ardent', 'bold', 'brave', 'bright', 'brisk', 'calm', 'candid',
  'careful', 'cheerful', 'clever', 'cosmic', 'curious', 'daring', 'deft', 'eager', 'earnest', 'elated',
  'fair', 'fearless', 'fervent', 'focused', 'frank', 'gallant', 'gentle', 'glad', 'graceful', 'hardy',
  'hearty', 'humble', 'jolly', 'keen', 'kind', 'lively', 'loyal', 'lucid', 'merry', 'mellow',
  'modest', 'nimble', 'noble', 'patient', 'placid', 'plucky', 'polite', 'proud', 'quiet', 'quick',
  'radiant', 'ready', 'restful', 'robust', 'serene', 'sharp', 'shrewd', 'sincere', 'snappy', 'solid',
  'spry', 'steady', 'sturdy', 'sunny', 'swift', 'tender', 'tidy', 'tranquil', 'trusty', 'upbeat',
  'valiant', 'vivid', 'warm', 'wise', 'witty', 'zealous',
]

const SURNAMES = [
  'agnesi', 'al_khwarizmi', 'babbage', 'backus', 'bardeen', 'bell', 'bohr', 'boole', 'cerf', 'chandrasekhar',
  'clarke', 'conway', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'faraday', 'fermi', 'feynman',
  'franklin', 'gauss', 'germain', 'goodall', 'hamilton', 'hawking', 'hertz', 'hodgkin', 'hopper', 'hypatia',
  'johnson', 'kahn', 'kepler', 'knuth', 'kovalevskaya', 'lamarr', 'lamport', 'liskov', 'lovelace', 'maxwell',
  'mcclintock', 'meitner', 'mendel', 'mirzakhani', 'moore', 'napier', 'newton', 'noether', 'pascal', 'pasteur',
  'perlman', 'planck', 'ramanujan', 'raman', 'ritchie', 'rubin', 'shannon', 'somerville', 'stallman', 'tesla',
  'thompson', 'torvalds', 'turing', 'volta', 'wiles', 'wozniak', 'wu', 'yalow', 'yonath', 'zuse',
]

/** An adjective and a surname, e.g. "patient_hopper". */
export function generateName(pick: (n: number) => number = randomInt): string {
  return `${ADJECTIVES[pick(ADJECTIVES.length)]}_${SURNAMES[pick(SURNAMES.length)]}`
}

/** A generated name that `taken` does not hold: on a clash, 2, 3, ... appended ("patient_hopper2"). */
export function freshName(taken: (name: string) => boolean, pick?: (n: number) => number): string {
  const base = generateName(pick)
  if (!taken(base)) return base
  for (let n = 2; ; n++) if (!taken(`${base}${n}`)) return `${base}${n}`
}

export const NAME_WORDS = {adjectives: ADJECTIVES, surnames: SURNAMES}
