/** Lookups into the generated Glue model, so callers never index GLUE_* tables by hand. */
import { GLUE_OPERATIONS, GLUE_SHAPES } from './glue-shapes.js';
import type { OperationModel, Shape } from './shape.js';

/** Operation names the model knows (not necessarily all served by this server). */
export function isKnownOperation(name: string): boolean {
  return Object.hasOwn(GLUE_OPERATIONS, name);
}

export function operationModel(name: string): OperationModel | undefined {
  return isKnownOperation(name) ? GLUE_OPERATIONS[name] : undefined;
}

/** Input shape name of an operation, or undefined for an unknown operation or one without input. */
export function inputShapeName(operation: string): string | undefined {
  return operationModel(operation)?.input;
}

export function outputShapeName(operation: string): string | undefined {
  return operationModel(operation)?.output;
}

/** The `__type`s an operation is modeled to answer with (besides protocol-level errors). */
export function modeledErrors(operation: string): string[] {
  return operationModel(operation)?.errors ?? [];
}

/** A shape by name; throws on a dangling name, which would mean a broken generated model. */
export function shapeNamed(name: string): Shape {
  const shape = Object.hasOwn(GLUE_SHAPES, name) ? GLUE_SHAPES[name] : undefined;
  if (!shape) throw new Error(`shape ${name} is not in the generated Glue model`);
  return shape;
}

/** All operation names in the generated model, sorted. */
export function knownOperations(): string[] {
  return Object.keys(GLUE_OPERATIONS).sort();
}

/** The wire name of a member in validation-error paths: AWS lower-cases only the first letter. */
export function memberPathName(memberName: string): string {
  return memberName.charAt(0).toLowerCase() + memberName.slice(1);
}
