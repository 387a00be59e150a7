import { shapeNamed } from '../core/glue-model/operations.js';
import type { Shape } from '../core/glue-model/shape.js';

/**
 * A validated request value reduced to what the Glue model defines for `shapeName`: unknown
 * members (which the validator lets through, as AWS does) are dropped at every level, so a job
 * definition stores and echoes only modeled members, however deep or large a client's extras are.
 */
export function projectToShape(value: unknown, shapeName: string): unknown {
  let shape: Shape;
  try {
    shape = shapeNamed(shapeName);
  } catch {
    return undefined;
  }
  if (value === null || value === undefined) return undefined;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) return undefined;
      if (shape.document) return value;
      const out: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(shape.members)) {
        if (!Object.hasOwn(value, name)) continue;
        const v = projectToShape((value as Record<string, unknown>)[name], ref.shape);
        if (v !== undefined) out[name] = v;
      }
      return out;
    }
    case 'list':
      return Array.isArray(value) ? value.map((v) => projectToShape(v, shape.member.shape)).filter((v) => v !== undefined) : undefined;
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return undefined;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const p = projectToShape(v, shape.value.shape);
        if (p !== undefined) out[k] = p;
      }
      return out;
    }
    default:
      return typeof value === 'object' ? undefined : value;
  }
}
