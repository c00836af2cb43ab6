// The stages of a run, in order. Two approval gates can stand before issuing and before deploying; a
// template without them skips both. `rollback` runs only after a deploy or validate failure.
export const STAGE_ORDER = [
  'discover', 'trigger', 'select-ca', 'approve-issue', 'issue', 'approve-deploy', 'deploy', 'validate', 'notify',
] as const;
export const STAGE_NAMES = [...STAGE_ORDER, 'rollback'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export function isStageName(value: string): value is StageName {
  return (STAGE_NAMES as readonly string[]).includes(value);
}

export function stageAfter(stage: StageName): StageName | null {
  const i = (STAGE_ORDER as readonly string[]).indexOf(stage);
  return i >= 0 && i < STAGE_ORDER.length - 1 ? STAGE_ORDER[i + 1]! : null;
}

/** Failures in these stages may have changed targets: they lead to rollback (or an operator's decision). */
export const STAGES_THAT_CHANGE_TARGETS: readonly StageName[] = ['deploy', 'validate'];
