/**
 * The subset of the Smithy/botocore JSON model that doppel keeps: the facts needed to validate
 * requests and shape responses (types, members, required lists, constraints). Documentation and
 * SDK-only traits (box, sensitive, deprecated, …) are dropped by scripts/gen-glue-model.mjs.
 */

/** Length constraints (strings: characters; lists and maps: entries). */
interface LengthLimits {
  min?: number;
  max?: number;
}

export interface MemberRef {
  /** Name of the target shape in GLUE_SHAPES. */
  shape: string;
}

export interface StructureShape {
  type: 'structure';
  /** Member name (PascalCase, exactly as on the wire) → target shape. */
  members: Record<string, MemberRef>;
  required?: string[];
  /** A free-form JSON document (any JSON value); members are meaningless. */
  document?: boolean;
  /** Exactly one member may be set. */
  union?: boolean;
}

export interface StringShape extends LengthLimits {
  type: 'string';
  /** Java regular expression from the model; must match the whole value. */
  pattern?: string;
  enum?: string[];
}

export interface ListShape extends LengthLimits {
  type: 'list';
  member: MemberRef;
}

export interface MapShape extends LengthLimits {
  type: 'map';
  key: MemberRef;
  value: MemberRef;
}

export interface NumberShape {
  type: 'integer' | 'long' | 'float' | 'double';
  /** Inclusive value range. */
  min?: number;
  max?: number;
}

export interface BooleanShape {
  type: 'boolean';
}

export interface TimestampShape {
  type: 'timestamp';
  /** Absent means the protocol default (epoch seconds for awsJson). */
  timestampFormat?: 'epoch-seconds' | 'iso8601' | 'rfc822';
}

export interface BlobShape extends LengthLimits {
  type: 'blob';
}

export type Shape =
  | StructureShape
  | StringShape
  | ListShape
  | MapShape
  | NumberShape
  | BooleanShape
  | TimestampShape
  | BlobShape;

export interface OperationModel {
  input?: string;
  output?: string;
  /** Modeled error shape names (the `__type` values the operation may answer with). */
  errors: string[];
}
