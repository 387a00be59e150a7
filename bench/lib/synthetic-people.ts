/**
 * Seeded synthetic person records for matcher benchmarks, written in the shared dataset layout
 * (records.csv, truth.csv, meta.json: ../shared/datasets/README.md), so the scorer and the engine
 * drivers read them like any other dataset.
 *
 * Everything is a pure function of (records, seed), and nothing is held per record, so any size
 * streams out with flat memory:
 * - Generation order. Global record indexes 0..n-1 are cut into entities: each index starts a new
 *   run with probability 1/2 (a hash of (seed, index)), so run lengths are geometric (half the
 *   entities have one record); a run longer than 8 is split into near-equal entities of at most 8.
 *   An entity is found from any of its indexes by scanning to the neighbouring run starts (a few
 *   steps on average). Some runs continue the household of the run before them: family members
 *   share surname, address and phone.
 * - File order. A seeded permutation of [0, n) (a Feistel network with cycle walking, invertible)
 *   maps global index to file position. Position p holds global index inverse(p); the entity's
 *   first record in the file is the copy with the smallest forward(copy index), which gives
 *   truth's entity_id without remembering anything.
 * - Content. A person comes from a stream seeded by (seed, entity start), a household from
 *   (seed, household start). The entity's first record in the file is the clean one; every other
 *   copy gets 1 to 3 corruptions from a stream seeded by (seed, entity start, copy), each in a
 *   different field, so at least four of the eight fields stay exact.
 *
 * Name, street and city pools are written here or built from syllables written here, with a
 * fixed seed (the same "world" for every run seed); frequencies follow a Zipf-Mandelbrot law, so
 * distinct people often share a name, and a city, with common ones.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The attribute columns of records.csv, after `id`. */
export const PEOPLE_COLUMNS = [
  'given_name',
  'surname',
  'date_of_birth',
  'street_address',
  'city',
  'postcode',
  'phone',
  'email',
] as const;

const GIVEN_NAME = 0;
const SURNAME = 1;
const DATE_OF_BIRTH = 2;
const STREET_ADDRESS = 3;
const CITY = 4;
const POSTCODE = 5;
const PHONE = 6;
const EMAIL = 7;
const FIELD_COUNT = PEOPLE_COLUMNS.length;

/** The largest entity; longer runs of the layout are split. */
export const MAX_ENTITY_SIZE = 8;
/** Largest supported record count: the permutation works on at most 32 bits. */
export const MAX_RECORDS = 2 ** 31 - 1;

/** meta.json of a generated dataset. */
export interface PeopleDatasetMeta {
  name: string;
  task: 'dedup';
  records: number;
  entities: number;
  true_pairs: number;
  score_pairs: 'all';
  columns: string[];
  primary_key: 'id';
  source: string;
  notes: string;
}

// ---------------------------------------------------------------------------------------------
// Hashing and seeded streams

/** A 32-bit integer finaliser: every input bit flips about half of the output bits. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** Independent hash families per purpose, so a record's run start bit says nothing about its household. */
const PURPOSE_RUN_START = 1;
const PURPOSE_HOUSEHOLD_START = 2;
const PURPOSE_HOUSEHOLD = 3;
const PURPOSE_PERSON = 4;
const PURPOSE_COPY = 5;
const PURPOSE_PERMUTATION = 6;

/** A 32-bit key for (seed, index) in one purpose's hash family; index is a non-negative int32. */
function keyOf(seed: number, index: number, purpose: number): number {
  return mix32(mix32(seed ^ Math.imul(purpose, 0x9e3779b1)) ^ index);
}

/** mulberry32, re-seedable in place so the hot loop allocates no generator per record. */
class SeededStream {
  private state = 0;

  reseed(key: number): this {
    this.state = key >>> 0;
    return this;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}

// ---------------------------------------------------------------------------------------------
// File order: an invertible seeded permutation of [0, n)

/**
 * A pseudo-random bijection of [0, size): a 4-round balanced Feistel network on the smallest even
 * number of bits covering `size`, with cycle walking (re-applying it until the value falls inside
 * the range; at most 4 times the range is covered, so a few steps on average). Both directions are
 * cheap, which lets the generator go from file position to record and from record to position.
 */
export class IndexPermutation {
  private readonly halfSize: number;
  private readonly halfMask: number;
  private readonly roundKeys: Uint32Array;

  constructor(
    readonly size: number,
    seed: number,
  ) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_RECORDS) throw new RangeError(`permutation size ${size}`);
    let bits = 2;
    while (2 ** bits < size) bits += 2;
    this.halfSize = 2 ** (bits / 2);
    this.halfMask = this.halfSize - 1;
    this.roundKeys = Uint32Array.from([0, 1, 2, 3], (round) => keyOf(seed, round, PURPOSE_PERMUTATION));
  }

  forward(index: number): number {
    let value = index;
    do value = this.encrypt(value);
    while (value >= this.size);
    return value;
  }

  inverse(index: number): number {
    let value = index;
    do value = this.decrypt(value);
    while (value >= this.size);
    return value;
  }

  private round(half: number, round: number): number {
    return mix32(half ^ this.roundKeys[round]!) & this.halfMask;
  }

  /** One pass of the network over the full 2^bits domain. */
  private encrypt(value: number): number {
    let left = Math.floor(value / this.halfSize);
    let right = value & this.halfMask;
    for (let r = 0; r < 4; r++) {
      const mixed = left ^ this.round(right, r);
      left = right;
      right = mixed;
    }
    return left * this.halfSize + right;
  }

  private decrypt(value: number): number {
    let left = Math.floor(value / this.halfSize);
    let right = value & this.halfMask;
    for (let r = 3; r >= 0; r--) {
      const mixed = right ^ this.round(left, r);
      right = left;
      left = mixed;
    }
    return left * this.halfSize + right;
  }
}

// ---------------------------------------------------------------------------------------------
// Pools: names, places, their frequencies

/** Values drawn with Zipf-Mandelbrot frequencies: value of rank r has weight 1 / (r + offset). */
class ZipfPool {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(
    readonly values: readonly string[],
    offset: number,
  ) {
    this.cumulative = new Float64Array(values.length);
    let sum = 0;
    for (let rank = 0; rank < values.length; rank++) {
      sum += 1 / (rank + 1 + offset);
      this.cumulative[rank] = sum;
    }
    this.total = sum;
  }

  drawIndex(stream: SeededStream): number {
    const target = stream.next() * this.total;
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cumulative[middle]! > target) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  draw(stream: SeededStream): string {
    return this.values[this.drawIndex(stream)]!;
  }
}

const words = (text: string): string[] => text.trim().split(/\s+/);

/** Common given names, roughly most frequent first. */
const COMMON_GIVEN_NAMES = words(`
  Mary James Patricia John Jennifer Robert Linda Michael Elizabeth William Barbara David Susan Richard
  Jessica Joseph Sarah Thomas Karen Charles Nancy Christopher Lisa Daniel Margaret Matthew Betty Anthony
  Sandra Mark Ashley Donald Dorothy Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol
  George Amanda Kevin Melissa Brian Deborah Edward Stephanie Ronald Rebecca Timothy Laura Jason Sharon
  Jeffrey Cynthia Ryan Kathleen Jacob Amy Gary Shirley Nicholas Angela Eric Helen Jonathan Anna Stephen
  Brenda Larry Pamela Justin Nicole Scott Samantha Brandon Katherine Benjamin Emma Samuel Ruth Gregory
  Christine Frank Catherine Alexander Debra Raymond Rachel Patrick Carolyn Jack Janet Dennis Virginia
  Jerry Maria Tyler Heather Aaron Diane Jose Julie Adam Joyce Henry Victoria Nathan Kelly Douglas
  Christina Zachary Lauren Peter Joan Kyle Evelyn Walter Olivia Ethan Judith Jeremy Megan Harold Cheryl
  Keith Martha Christian Andrea Roger Frances Noah Hannah Gerald Jacqueline Carl Ann Terry Gloria Sean
  Jean Austin Kathryn Arthur Alice Lawrence Teresa Jesse Sara Dylan Janice Bryan Doris Joe Madison Jordan
  Julia Billy Grace Bruce Judy Albert Abigail Willie Marie Gabriel Denise Logan Beverly Alan Amber Juan
  Theresa Wayne Marilyn Roy Danielle Ralph Diana Randy Brittany Eugene Natalie Vincent Sophia Russell
  Rose Elijah Isabella Louis Alexis Bobby Kayla Philip Charlotte Johnny Lily Oliver Chloe Leo Ava Liam
  Mia Lucas Ella Mason Zoe Owen Ruby Isaac Freya Caleb Ivy Hugo Nora Felix Iris Oscar Leah Miles Maya
  Theo Clara Eli Stella Jasper Hazel Ezra Violet Silas Aurora Rowan Naomi Declan Elena Finn Lucy Tobias
  Eva Rory Sienna Callum Esme Connor Imogen Reuben Poppy Dominic Phoebe Harvey Matilda Jude Georgia Arlo
  Ellie Aiden Holly Ian Molly Colin Fiona Neil Gemma Graham Alison Martin Caroline Simon Joanna Stuart
  Louise Trevor Wendy Malcolm Yvonne Derek Pauline Stanley Irene Leonard Maureen Howard Elaine Clifford
  Sheila Vernon Rita Mohammed Aisha Ahmed Fatima Ali Zara Omar Layla Raj Priya Arjun Ananya Wei Mei
  Hiroshi Yuki Carlos Lucia Diego Sofia Mateo Valentina Luis Camila Pedro Ines Marco Giulia Pierre Amelie
  Lars Ingrid Sven Astrid Pavel Katya Ivan Olga Kwame Ama Tunde Ngozi
`);

/** Common surnames, roughly most frequent first. */
const COMMON_SURNAMES = words(`
  Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
  Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis
  Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall
  Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins
  Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly
  Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes
  Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell
  Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson
  Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis
  Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods
  Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter
  Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson
  Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto
  Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos
  Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray
  Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Willis Carpenter Lawrence Sandoval O'Brien
  O'Connor MacLeod Singh Wang Li Zhang Liu Khan Ahmed Ali Byrne Walsh Doyle Kaur Nakamura Tanaka Rossi
  Russo Ferrari Muller Schneider Novak Kowalski Dubois Moreau Lefebvre Jansen Okafor Mensah Haddad Cohen
`);

/** Syllables for rarer given names: start + middle + ending ("Kalen", "Marisa", "Dorvin"). */
const GIVEN_STARTS = words(`
  Al Bel Bri Ca Cor Da Del Do El Em Fa Fen Ga Gil Ha Hal I Ja Jo Ka Kel La Le Li Lo Ma Mar Mi Na Nel
  O Pa Per Ra Ren Ro Sa Sel Ta Tam Te Tor Va Vi Wil Ya Za Zel Bran Cal Dar Eve Isa Kas Lor Mer Ori Rho
`);
const GIVEN_MIDDLES = ['', 'la', 'ri', 'na', 'le', 'lo', 've', 'mi', 'de', 'ro', 'sa', 'li', 'ta', 'ne', 'vi', 'da', 'ra', 'so'];
const GIVEN_ENDINGS = words(`
  n a el on ia ine yn en is o ra ton iel ah ie ey ette us an ard ith ora ick ana elle ie ara in ius
`);

/** Syllables for generated surnames: start (+ middle) + ending ("Dalworth", "Kirenby"). */
const SURNAME_STARTS = words(`
  Ab Al Ar Bar Bel Bir Black Bran Brom Cal Car Chal Cor Craw Dal Dar Dun Ed El Fal Far Fen Gal Gar Gil
  Glad Gor Hal Har Hay Hol Hux Ing Jar Kel Ken Kir Lam Lang Lar Lind Mal Mar Mer Mor Nash Nor Ol Pen Per
  Quin Ram Rad Ren Rid Sal Sel Sher Stan Stor Tal Tam Thorn Tre Vel Wal War Wen Whit Win Wor Yar Zel Ash
  Bram Crom Fitz Grim Hemp Lock Pax Rook Sut Tib
`);
const SURNAME_MIDDLES = ['a', 'e', 'i', 'o', 'ing', 'er', 'ow', 'en', 'el', 'ar', 'is', 'an'];
const SURNAME_ENDINGS = words(`
  son ton ley ford field wood man er by well worth ham more ridge stone wick land mond stead shaw hurst
  dale brook ett ick ock ins kins en ard ing croft gate low combe ster ell ier ot berg ski ini ez ov escu
  sen strom idis aki
`);

/** Street names: plain words first (the most frequent), then surnames. */
const STREET_WORDS = words(`
  High Church Station Main Park Mill School Oak Maple Pine Cedar Elm Birch Willow Chestnut Walnut Cherry
  Spruce Poplar Laurel Holly Juniper Magnolia Bridge Market Castle Hill Lake River Spring Meadow Forest
  Garden Orchard Valley Ridge Sunset Harbour Bay Beach Victoria Albert George King Queen Prince Windsor
  York Lincoln Highland Grove Fairview Pleasant Green Brookside Hillside Woodland Lakeview Riverside
  Parkside Kingsway North South East West Central Union Liberty Canal Railway Quarry Chapel Abbey Manor
  Farm Common Heath Moor Cross
`);
/** Street types, most frequent first: full name and its abbreviation ('' when there is none). */
const STREET_TYPES: ReadonlyArray<readonly [full: string, abbreviation: string]> = [
  ['Street', 'St'],
  ['Road', 'Rd'],
  ['Avenue', 'Ave'],
  ['Lane', 'Ln'],
  ['Drive', 'Dr'],
  ['Court', 'Ct'],
  ['Place', 'Pl'],
  ['Way', ''],
  ['Crescent', 'Cres'],
  ['Close', 'Cl'],
  ['Terrace', 'Tce'],
  ['Grove', 'Gr'],
  ['Boulevard', 'Blvd'],
  ['Parade', 'Pde'],
  ['Square', 'Sq'],
  ['Highway', 'Hwy'],
];

const CITY_STARTS = words(`
  Ash Bel Brook Clay Dun Elm Fair Glen Green Hal Hart Kings Lang Mar Mid Mill Nor Oak Pem Red River Rock
  Rose Sand Shel Spring Stan Stock Sud Sum Thorn Wal Wey White Wil Win Wood Bram Cold Deer Fox Hawk Iron
  Lyn Ox Pres Salt Silver Stone
`);
const CITY_ENDINGS = words(`
  ton ville field ford bury burg dale port wood ham worth mouth bridge stead wick ley view haven hurst
  minster by thorpe land mere
`);
const CITY_PREFIXES = ['North ', 'South ', 'East ', 'West ', 'New ', 'Port ', 'Lake ', 'Mount ', 'Fort '];

const EMAIL_DOMAINS = words(`
  mailhub.example inbox.example postbox.example homemail.example netpost.example letterbox.example
  quickpost.example mymail.example citymail.example broadmail.example
`);

/** Keys next to each letter on a QWERTY keyboard: the substitutions and insertions of a typo. */
const KEYBOARD_NEIGHBOURS: Readonly<Record<string, string>> = {
  q: 'wa', w: 'qesa', e: 'wrds', r: 'etfd', t: 'rygf', y: 'tuhg', u: 'yijh', i: 'uokj', o: 'iplk', p: 'ol',
  a: 'qwsz', s: 'awedxz', d: 'serfcx', f: 'drtgvc', g: 'ftyhbv', h: 'gyujnb', j: 'huikmn', k: 'jiolm',
  l: 'kop', z: 'asx', x: 'zsdc', c: 'xdfv', v: 'cfgb', b: 'vghn', n: 'bhjm', m: 'njk',
};

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
/** Letters only, lower case: a name as it appears in an email address. */
const emailForm = (name: string): string => name.toLowerCase().replace(/[^a-z]/g, '');

/** Every start × middle × ending combination, shuffled, without repeats or `exclude`d values, `count` of them. */
function syllableNames(
  stream: SeededStream,
  starts: readonly string[],
  middles: readonly string[],
  endings: readonly string[],
  count: number,
  exclude: readonly string[],
): string[] {
  const combinations: string[] = [];
  for (const start of starts) for (const middle of middles) for (const ending of endings) combinations.push(capitalise((start + middle + ending).toLowerCase()));
  const seen = new Set(exclude);
  const names: string[] = [];
  for (const name of stream.shuffle(combinations)) {
    if (seen.has(name)) continue;
    seen.add(name);
    names.push(name);
    if (names.length === count) break;
  }
  return names;
}

/** The same pools for every run seed: the world the people live in. */
const WORLD_SEED = 0x70e0f1e5;

interface World {
  givenNames: ZipfPool;
  surnames: ZipfPool;
  /** The names of `givenNames` and `surnames` as they appear in email addresses, by rank. */
  givenNameEmailForms: string[];
  surnameEmailForms: string[];
  streetNames: ZipfPool;
  streetTypes: ZipfPool;
  cities: ZipfPool;
  /** Per city (pool rank): its first postcode and how many consecutive postcodes it has. */
  postcodeBase: Int32Array;
  postcodeCount: Int32Array;
  /** Per city: the phone area code of its households. */
  areaCode: Int32Array;
  emailDomains: ZipfPool;
}

function buildWorld(): World {
  const stream = new SeededStream().reseed(WORLD_SEED);
  const givenNames = [...new Set(COMMON_GIVEN_NAMES)];
  givenNames.push(...syllableNames(stream, GIVEN_STARTS, GIVEN_MIDDLES, GIVEN_ENDINGS, 4_000, givenNames));
  const surnames = [...new Set(COMMON_SURNAMES)];
  const generatedSurnames = syllableNames(stream, SURNAME_STARTS, ['', ...SURNAME_MIDDLES], SURNAME_ENDINGS, 40_000, surnames);
  surnames.push(...generatedSurnames);
  // Streets named after people use the rarer surnames, after the plain words.
  const streetNames = [...STREET_WORDS, ...generatedSurnames.slice(0, 2_500)];
  // About one city in six carries a prefix ("North Ashton" beside "Ashton").
  const plainCityNames = syllableNames(stream, [''], CITY_STARTS, CITY_ENDINGS, 1_000, []);
  const prefixedCityNames = new Set<string>();
  while (prefixedCityNames.size < 200) prefixedCityNames.add(stream.pick(CITY_PREFIXES) + stream.pick(plainCityNames));
  const cityNames = stream.shuffle([...plainCityNames, ...prefixedCityNames]);

  // Big cities have more postcodes; codes of a city are consecutive, cities placed in random order.
  const postcodeBase = new Int32Array(cityNames.length);
  const postcodeCount = new Int32Array(cityNames.length);
  const areaCode = new Int32Array(cityNames.length);
  let nextCode = 10_000;
  for (const city of stream.shuffle(Array.from(cityNames, (_, rank) => rank))) {
    postcodeCount[city] = Math.max(1, Math.round(24 / (1 + city / 8)));
    postcodeBase[city] = nextCode;
    nextCode += postcodeCount[city]! + stream.below(30);
    areaCode[city] = 200 + stream.below(800);
  }
  return {
    givenNames: new ZipfPool(givenNames, 3),
    surnames: new ZipfPool(surnames, 10),
    givenNameEmailForms: givenNames.map(emailForm),
    surnameEmailForms: surnames.map(emailForm),
    streetNames: new ZipfPool(streetNames, 20),
    streetTypes: new ZipfPool(STREET_TYPES.map(([full]) => full), 1),
    cities: new ZipfPool(cityNames, 5),
    postcodeBase,
    postcodeCount,
    areaCode,
    emailDomains: new ZipfPool(EMAIL_DOMAINS, 1),
  };
}

let world: World | undefined;
const theWorld = (): World => (world ??= buildWorld());

// ---------------------------------------------------------------------------------------------
// Households, people and their formatting

const PHONE_STYLE_COUNT = 5;
/** 10 digits in one of five common layouts. */
function formatPhone(digits: string, style: number): string {
  const area = digits.slice(0, 3);
  const exchange = digits.slice(3, 6);
  const line = digits.slice(6);
  switch (style) {
    case 0:
      return `${area}-${exchange}-${line}`;
    case 1:
      return `(${area}) ${exchange}-${line}`;
    case 2:
      return digits;
    case 3:
      return `${area} ${exchange} ${line}`;
    default:
      return `${area}.${exchange}.${line}`;
  }
}

/** Street type written in full (0), abbreviated (1) or abbreviated with a full stop (2). */
type StreetTypeStyle = 0 | 1 | 2;

interface Household {
  surname: string;
  surnameRank: number;
  /** 0: no unit. */
  unit: number;
  houseNumber: number;
  streetName: string;
  streetType: number;
  streetTypeStyle: StreetTypeStyle;
  /** "Unit 4, 12 Oak Street" (false) or "4/12 Oak Street" (true). */
  unitWithSlash: boolean;
  city: number;
  postcode: string;
  /** 10 digits, '' when the household gave none. */
  phoneDigits: string;
  phoneStyle: number;
}

interface Person {
  givenName: string;
  year: number;
  month: number;
  day: number;
  /** '' when the person gave none. */
  email: string;
}

function formatAddress(h: Household, streetTypeStyle: StreetTypeStyle, unitWithSlash: boolean): string {
  const [full, abbreviation] = STREET_TYPES[h.streetType]!;
  const type = streetTypeStyle === 0 || abbreviation === '' ? full : streetTypeStyle === 1 ? abbreviation : `${abbreviation}.`;
  const street = `${h.houseNumber} ${h.streetName} ${type}`;
  if (h.unit === 0) return street;
  return unitWithSlash ? `${h.unit}/${street}` : `Unit ${h.unit}, ${street}`;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
const formatDate = (year: number, month: number, day: number): string => `${year}-${two(month)}-${two(day)}`;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const daysInMonth = (year: number, month: number): number =>
  month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;

/** Share of people without a phone or an email in every record (first records included). */
const NO_PHONE_RATE = 0.03;
const NO_EMAIL_RATE = 0.04;
/** Share of runs that start a new household (the rest join the household of the run before). */
const HOUSEHOLD_START_RATE = 0.85;

// ---------------------------------------------------------------------------------------------
// Corruptions of duplicates

type Corruption = 'typo' | 'transpose' | 'swapNames' | 'swapDayMonth' | 'truncate' | 'blank' | 'phone' | 'addressFormat';

/** Corruption kinds with their relative frequency. */
const CORRUPTIONS: ReadonlyArray<readonly [Corruption, number]> = [
  ['typo', 30],
  ['transpose', 8],
  ['swapNames', 5],
  ['swapDayMonth', 6],
  ['truncate', 10],
  ['blank', 14],
  ['phone', 13],
  ['addressFormat', 14],
];
const CORRUPTION_WEIGHT_TOTAL = CORRUPTIONS.reduce((sum, [, weight]) => sum + weight, 0);

/** Fields each corruption may hit. */
const TYPO_FIELDS = [GIVEN_NAME, SURNAME, STREET_ADDRESS, CITY, POSTCODE, EMAIL];
const TRANSPOSE_FIELDS = [GIVEN_NAME, SURNAME, STREET_ADDRESS, EMAIL];
const TRUNCATE_FIELDS = [GIVEN_NAME, SURNAME];
const BLANK_FIELDS = [DATE_OF_BIRTH, STREET_ADDRESS, CITY, POSTCODE, PHONE, EMAIL];

/** Corruptions per duplicate: 1 (50%), 2 (33%), 3 (17%). */
function corruptionCount(stream: SeededStream): number {
  const u = stream.next();
  return u < 0.5 ? 1 : u < 0.83 ? 2 : 3;
}

/** Attempts to land the wanted corruptions (a drawn one may not apply, e.g. blanking an empty field). */
const CORRUPTION_ATTEMPTS = 40;

const isAlphanumeric = (c: string): boolean => /[A-Za-z0-9]/.test(c);

/** A nearby key for a letter (keeping its case), another digit for a digit. */
function typoFor(c: string, stream: SeededStream): string {
  if (c >= '0' && c <= '9') return String((Number(c) + 1 + stream.below(9)) % 10);
  const lower = c.toLowerCase();
  const keys = KEYBOARD_NEIGHBOURS[lower] ?? lower; // every letter of the pools is in a-z
  const neighbour = keys.charAt(stream.below(keys.length));
  return c === lower ? neighbour : neighbour.toUpperCase();
}

/** A random position holding a letter or digit, or -1. */
function alphanumericPosition(value: string, stream: SeededStream): number {
  for (let attempt = 0; attempt < 8; attempt++) {
    const i = stream.below(value.length);
    if (isAlphanumeric(value[i]!)) return i;
  }
  return -1;
}

/** One character substituted, inserted or deleted. Digits-only values (postcodes) only get substitutions. */
function typo(value: string, stream: SeededStream): string {
  if (value.length < 2) return value;
  const i = alphanumericPosition(value, stream);
  if (i < 0) return value;
  const c = value[i]!;
  const digitsOnly = /^[0-9]+$/.test(value);
  const kind = digitsOnly ? 0 : stream.below(3);
  if (kind === 0) return value.slice(0, i) + typoFor(c, stream) + value.slice(i + 1);
  if (kind === 1) {
    // Doubling a letter or hitting a neighbouring key as well.
    const inserted = stream.chance(0.4) ? c : typoFor(c, stream);
    return value.slice(0, i + 1) + inserted + value.slice(i + 1);
  }
  return value.length < 3 ? value : value.slice(0, i) + value.slice(i + 1);
}

/** Two adjacent different letters swapped. */
function transpose(value: string, stream: SeededStream): string {
  if (value.length < 2) return value;
  const i = stream.below(value.length - 1);
  const a = value[i]!;
  const b = value[i + 1]!;
  if (a === b || !isAlphanumeric(a) || !isAlphanumeric(b)) return value;
  return value.slice(0, i) + b + a + value.slice(i + 2);
}

// ---------------------------------------------------------------------------------------------
// The generator

/** What one file position holds, apart from its field values. */
export interface RecordPlacement {
  /** Index of the record in generation order. */
  globalIndex: number;
  /** First global index of its entity and the entity's size. */
  entityStart: number;
  entitySize: number;
  /** File position of the entity's first record (its entity_id). */
  firstPosition: number;
  /** Start of the layout run holding the entity (households are made of runs). */
  runStart: number;
}

/**
 * Generates the records of one (records, seed) pair: `place` says where a file position sits in
 * the entity layout, `fill` writes that record's values into `fields`.
 */
export class SyntheticPeople {
  /** Values of the last filled record, in PEOPLE_COLUMNS order. */
  readonly fields: string[] = new Array<string>(FIELD_COUNT).fill('');
  readonly idWidth: number;
  private readonly permutation: IndexPermutation;
  private readonly world = theWorld();
  private readonly stream = new SeededStream();
  private readonly household: Household = {
    surname: '',
    surnameRank: 0,
    unit: 0,
    houseNumber: 0,
    streetName: '',
    streetType: 0,
    streetTypeStyle: 0,
    unitWithSlash: false,
    city: 0,
    postcode: '',
    phoneDigits: '',
    phoneStyle: 0,
  };
  private readonly person: Person = { givenName: '', year: 0, month: 0, day: 0, email: '' };
  /** Which fields the current duplicate has changed. */
  private readonly changed = new Uint8Array(FIELD_COUNT);

  constructor(
    readonly records: number,
    readonly seed: number,
  ) {
    if (!Number.isInteger(records) || records < 1 || records > MAX_RECORDS) {
      throw new RangeError(`records must be an integer in [1, ${MAX_RECORDS}], got ${records}`);
    }
    this.permutation = new IndexPermutation(records, seed);
    this.idWidth = String(records).length;
  }

  /** The id of the record at a file position: r0000001 for position 0 (width from the record count). */
  idAt(position: number): string {
    return `r${String(position + 1).padStart(this.idWidth, '0')}`;
  }

  /** Where the record at `position` sits in the entity layout; `into` is reused by the caller. */
  place(position: number, into: RecordPlacement): RecordPlacement {
    const globalIndex = this.permutation.inverse(position);
    let runStart = globalIndex;
    while (!this.isRunStart(runStart)) runStart--;
    let runEnd = globalIndex + 1;
    while (runEnd < this.records && !this.isRunStart(runEnd)) runEnd++;
    // A run of more than MAX_ENTITY_SIZE records is split into near-equal entities, the larger first.
    const runLength = runEnd - runStart;
    const pieces = Math.ceil(runLength / MAX_ENTITY_SIZE);
    const smallSize = Math.floor(runLength / pieces);
    const largeCount = runLength - smallSize * pieces;
    const offset = globalIndex - runStart;
    let entityStart: number;
    let entitySize: number;
    if (offset < largeCount * (smallSize + 1)) {
      entitySize = smallSize + 1;
      entityStart = runStart + Math.floor(offset / entitySize) * entitySize;
    } else {
      entitySize = smallSize;
      const largePart = largeCount * (smallSize + 1);
      entityStart = runStart + largePart + Math.floor((offset - largePart) / smallSize) * smallSize;
    }
    let firstPosition = position;
    for (let copy = 0; copy < entitySize; copy++) {
      const copyPosition = this.permutation.forward(entityStart + copy);
      if (copyPosition < firstPosition) firstPosition = copyPosition;
    }
    into.globalIndex = globalIndex;
    into.entityStart = entityStart;
    into.entitySize = entitySize;
    into.firstPosition = firstPosition;
    into.runStart = runStart;
    return into;
  }

  /** Writes the values of the record at `placement` into `fields`. */
  fill(position: number, placement: RecordPlacement): string[] {
    this.makeHousehold(this.householdStart(placement.runStart));
    this.makePerson(placement.entityStart);
    const h = this.household;
    const p = this.person;
    const f = this.fields;
    f[GIVEN_NAME] = p.givenName;
    f[SURNAME] = h.surname;
    f[DATE_OF_BIRTH] = formatDate(p.year, p.month, p.day);
    f[STREET_ADDRESS] = formatAddress(h, h.streetTypeStyle, h.unitWithSlash);
    f[CITY] = this.world.cities.values[h.city]!;
    f[POSTCODE] = h.postcode;
    f[PHONE] = h.phoneDigits === '' ? '' : formatPhone(h.phoneDigits, h.phoneStyle);
    f[EMAIL] = p.email;
    if (position !== placement.firstPosition) {
      const copy = placement.globalIndex - placement.entityStart;
      this.corrupt(mix32(keyOf(this.seed, placement.entityStart, PURPOSE_COPY) ^ copy));
    }
    return f;
  }

  private isRunStart(index: number): boolean {
    return index === 0 || (keyOf(this.seed, index, PURPOSE_RUN_START) & 1) === 1;
  }

  /** The run that started the household of the run at `runStart`. */
  private householdStart(runStart: number): number {
    let start = runStart;
    while (start !== 0 && keyOf(this.seed, start, PURPOSE_HOUSEHOLD_START) >= HOUSEHOLD_START_RATE * 4294967296) {
      start--;
      while (!this.isRunStart(start)) start--;
    }
    return start;
  }

  private makeHousehold(start: number): void {
    const s = this.stream.reseed(keyOf(this.seed, start, PURPOSE_HOUSEHOLD));
    const w = this.world;
    const h = this.household;
    h.surnameRank = w.surnames.drawIndex(s);
    h.surname = w.surnames.values[h.surnameRank]!;
    h.unit = s.chance(0.1) ? 1 + s.below(40) : 0;
    h.houseNumber = 1 + (s.chance(0.7) ? s.below(200) : s.below(2000));
    h.streetName = w.streetNames.draw(s);
    h.streetType = w.streetTypes.drawIndex(s);
    h.streetTypeStyle = s.chance(0.7) ? 0 : s.chance(0.7) ? 1 : 2;
    h.unitWithSlash = s.chance(0.3);
    h.city = w.cities.drawIndex(s);
    h.postcode = String(w.postcodeBase[h.city]! + s.below(w.postcodeCount[h.city]!));
    const exchange = 200 + s.below(800);
    const line = String(s.below(10_000)).padStart(4, '0');
    h.phoneDigits = s.chance(NO_PHONE_RATE) ? '' : `${w.areaCode[h.city]}${exchange}${line}`;
    // Most records of a dataset share a phone layout; the rest vary.
    h.phoneStyle = s.chance(0.6) ? 0 : 1 + s.below(PHONE_STYLE_COUNT - 1);
  }

  private makePerson(entityStart: number): void {
    const s = this.stream.reseed(keyOf(this.seed, entityStart, PURPOSE_PERSON));
    const p = this.person;
    const givenNameRank = this.world.givenNames.drawIndex(s);
    p.givenName = this.world.givenNames.values[givenNameRank]!;
    p.year = 1930 + s.below(81);
    p.month = 1 + s.below(12);
    p.day = 1 + s.below(daysInMonth(p.year, p.month));
    if (s.chance(NO_EMAIL_RATE)) {
      p.email = '';
      return;
    }
    p.email = `${this.emailLocalPart(givenNameRank, s)}@${this.world.emailDomains.draw(s)}`;
  }

  /** The part before the @, from the clean names in one of eight common patterns. */
  private emailLocalPart(givenNameRank: number, s: SeededStream): string {
    const given = this.world.givenNameEmailForms[givenNameRank]!;
    const surname = this.world.surnameEmailForms[this.household.surnameRank]!;
    const pattern = s.below(8);
    const number = 1 + s.below(99);
    switch (pattern) {
      case 0:
        return `${given}.${surname}`;
      case 1:
        return `${given}${surname}`;
      case 2:
        return `${given.charAt(0)}${surname}`;
      case 3:
        return `${given}_${surname}`;
      case 4:
        return `${surname}.${given}`;
      case 5:
        return `${given}.${surname}${number}`;
      case 6:
        return `${given}${surname}${two(this.person.year % 100)}`;
      default:
        return `${given.charAt(0)}.${surname}${number}`;
    }
  }

  /** Applies 1 to 3 corruptions to `fields`, each to a field not changed yet, so at least 4 stay exact. */
  private corrupt(key: number): void {
    const s = this.stream.reseed(key);
    const wanted = corruptionCount(s);
    this.changed.fill(0);
    let applied = 0;
    for (let attempt = 0; attempt < CORRUPTION_ATTEMPTS && applied < wanted; attempt++) {
      let u = s.next() * CORRUPTION_WEIGHT_TOTAL;
      let kind: Corruption = CORRUPTIONS[0]![0];
      for (const [candidate, weight] of CORRUPTIONS) {
        kind = candidate;
        if ((u -= weight) < 0) break;
      }
      if (this.apply(kind, s)) applied++;
    }
  }

  /** A field of `candidates` not changed yet, or -1 (one random draw; the caller retries). */
  private unchangedField(candidates: readonly number[], s: SeededStream): number {
    const field = s.pick(candidates);
    return this.changed[field] === 0 && this.fields[field] !== '' ? field : -1;
  }

  /** Sets a field when the corruption changed it; false when it did not apply. */
  private set(field: number, value: string): boolean {
    if (value === this.fields[field]) return false;
    this.fields[field] = value;
    this.changed[field] = 1;
    return true;
  }

  private apply(kind: Corruption, s: SeededStream): boolean {
    const f = this.fields;
    switch (kind) {
      case 'typo': {
        const field = this.unchangedField(TYPO_FIELDS, s);
        return field >= 0 && this.set(field, typo(f[field]!, s));
      }
      case 'transpose': {
        const field = this.unchangedField(TRANSPOSE_FIELDS, s);
        return field >= 0 && this.set(field, transpose(f[field]!, s));
      }
      case 'swapNames': {
        const given = f[GIVEN_NAME]!;
        const surname = f[SURNAME]!;
        if (this.changed[GIVEN_NAME] || this.changed[SURNAME] || given === surname) return false;
        this.set(GIVEN_NAME, surname);
        return this.set(SURNAME, given);
      }
      case 'swapDayMonth': {
        const p = this.person;
        if (this.changed[DATE_OF_BIRTH] || p.day > 12 || p.day === p.month) return false;
        return this.set(DATE_OF_BIRTH, formatDate(p.year, p.day, p.month));
      }
      case 'truncate': {
        const field = this.unchangedField(TRUNCATE_FIELDS, s);
        if (field < 0) return false;
        const value = f[field]!;
        if (field === GIVEN_NAME) {
          // An initial, or a prefix of at least two letters ("Chris" for "Christopher").
          const keep = value.length < 4 || s.chance(0.5) ? 1 : 2 + s.below(value.length - 3);
          return this.set(field, value.slice(0, keep));
        }
        // A surname cut by one to three letters, keeping at least four.
        if (value.length < 5) return false;
        return this.set(field, value.slice(0, value.length - 1 - s.below(Math.min(3, value.length - 4))));
      }
      case 'blank': {
        const field = this.unchangedField(BLANK_FIELDS, s);
        return field >= 0 && this.set(field, '');
      }
      case 'phone': {
        const h = this.household;
        if (this.changed[PHONE] || h.phoneDigits === '') return false;
        if (s.chance(0.5)) {
          const style = (h.phoneStyle + 1 + s.below(PHONE_STYLE_COUNT - 1)) % PHONE_STYLE_COUNT;
          return this.set(PHONE, formatPhone(h.phoneDigits, style));
        }
        const i = 3 + s.below(7); // the area code is rarely mistyped
        const digits = h.phoneDigits.slice(0, i) + typoFor(h.phoneDigits[i]!, s) + h.phoneDigits.slice(i + 1);
        return this.set(PHONE, formatPhone(digits, h.phoneStyle));
      }
      case 'addressFormat': {
        const h = this.household;
        if (this.changed[STREET_ADDRESS]) return false;
        const changeUnit = h.unit !== 0 && s.chance(0.5);
        const typeStyle = changeUnit ? h.streetTypeStyle : (((h.streetTypeStyle + 1 + s.below(2)) % 3) as StreetTypeStyle);
        return this.set(STREET_ADDRESS, formatAddress(h, typeStyle, changeUnit ? !h.unitWithSlash : h.unitWithSlash));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Writing the dataset

/**
 * Bytes per write call: many rows at once, few enough to keep memory flat. Rows are copied into a
 * fresh off-heap buffer rather than concatenated into one long string, which kept the garbage
 * collector busy with millions of string pieces.
 */
const CHUNK_BYTES = 1 << 20;
/** Room left in a chunk for one more row; rows are far shorter. */
const MAX_ROW_BYTES = 4096;

/** Collects rows into buffers of about CHUNK_BYTES. */
class ChunkBuilder {
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;

  /** Appends a row; returns a full chunk to write when the buffer is full, else undefined. */
  append(row: string): Buffer | undefined {
    this.used += this.buffer.write(row, this.used);
    return this.used > CHUNK_BYTES - MAX_ROW_BYTES ? this.take() : undefined;
  }

  /** The rows collected so far; the next rows go to a new buffer (the stream may still hold this one). */
  take(): Buffer {
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    return chunk;
  }
}

function csvValue(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

interface TruthCounts {
  entities: number;
  truePairs: number;
}

function* recordsCsv(people: SyntheticPeople): Generator<Buffer> {
  const placement: RecordPlacement = { globalIndex: 0, entityStart: 0, entitySize: 0, firstPosition: 0, runStart: 0 };
  const chunks = new ChunkBuilder();
  chunks.append(`id,${PEOPLE_COLUMNS.join(',')}\n`);
  for (let position = 0; position < people.records; position++) {
    const f = people.fill(position, people.place(position, placement));
    const full = chunks.append(
      `${people.idAt(position)},${csvValue(f[GIVEN_NAME]!)},${csvValue(f[SURNAME]!)},${f[DATE_OF_BIRTH]},` +
        `${csvValue(f[STREET_ADDRESS]!)},${csvValue(f[CITY]!)},${f[POSTCODE]},${f[PHONE]},${csvValue(f[EMAIL]!)}\n`,
    );
    if (full) yield full;
  }
  yield chunks.take();
}

function* truthCsv(people: SyntheticPeople, counts: TruthCounts): Generator<Buffer> {
  const placement: RecordPlacement = { globalIndex: 0, entityStart: 0, entitySize: 0, firstPosition: 0, runStart: 0 };
  const chunks = new ChunkBuilder();
  chunks.append('id,entity_id\n');
  for (let position = 0; position < people.records; position++) {
    const { firstPosition, entitySize } = people.place(position, placement);
    if (firstPosition === position) {
      counts.entities++;
      counts.truePairs += (entitySize * (entitySize - 1)) / 2;
    }
    const full = chunks.append(`${people.idAt(position)},${people.idAt(firstPosition)}\n`);
    if (full) yield full;
  }
  yield chunks.take();
}

const DATASET_NOTES =
  'Synthetic person records generated by doppel (bench/lib/synthetic-people.ts); no real people. ' +
  'Entities: half have one record, the rest 2 to 8 with geometrically decreasing frequency. ' +
  'Households: about a quarter of people share surname, street address, city, postcode and phone with another person of the data (each with their own given name, date of birth and email). ' +
  'Names, streets and cities follow Zipf-like frequencies, so different people often share a name. ' +
  'Blanks in every record of a person: phone about 3%, email about 4%. ' +
  'The first record of an entity in file order is clean; every other record has 1 to 3 corruptions (50%, 33%, 17%), each in a different field, so at least four fields stay exact: ' +
  'a typo (keyboard-neighbour substitution, insertion, deletion) in given name, surname, street address, city, postcode or email; ' +
  'two adjacent characters transposed; given name and surname swapped; day and month of the date of birth swapped (when still a valid date; dates stay YYYY-MM-DD); ' +
  'given name cut to an initial or a prefix, surname cut by 1 to 3 letters; a field blanked (date of birth, street address, city, postcode, phone or email); ' +
  'the phone in another layout or with one digit mistyped; the street address in another valid format (street type abbreviated or written out, unit as "Unit 4, 12 ..." or "4/12 ..."). ' +
  'ids are neutral row numbers; rows are in a seeded pseudo-random order.';

/** Writes records.csv, truth.csv and meta.json of `records` synthetic people into `outDir`. */
export async function writePeopleDataset(options: { records: number; seed: number; outDir: string }): Promise<PeopleDatasetMeta> {
  const people = new SyntheticPeople(options.records, options.seed);
  mkdirSync(options.outDir, { recursive: true });
  // The generators run only as fast as the files take the chunks (pipeline backpressure).
  const fewChunks = { objectMode: true, highWaterMark: 2 };
  await pipeline(Readable.from(recordsCsv(people), fewChunks), createWriteStream(join(options.outDir, 'records.csv')));
  // A second, cheaper pass (placement only) writes the truth and counts entities and pairs.
  const counts: TruthCounts = { entities: 0, truePairs: 0 };
  await pipeline(Readable.from(truthCsv(people, counts), fewChunks), createWriteStream(join(options.outDir, 'truth.csv')));
  const meta: PeopleDatasetMeta = {
    name: `synthetic_people_${options.records}`,
    task: 'dedup',
    records: options.records,
    entities: counts.entities,
    true_pairs: counts.truePairs,
    score_pairs: 'all',
    columns: [...PEOPLE_COLUMNS],
    primary_key: 'id',
    source: `doppel synthetic generator seed=${options.seed}`,
    notes: DATASET_NOTES,
  };
  writeFileSync(join(options.outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
