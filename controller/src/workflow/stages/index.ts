// Every stage's handler, by stage name.
import type { StageName } from '../stage-names.js';
import type { StageHandler } from '../stage-handler.js';
import { approvalGate } from './approve.js';
import { deploy } from './deploy.js';
import { discover } from './discover.js';
import { issue } from './issue.js';
import { notify } from './notify.js';
import { rollback } from './rollback.js';
import { selectCa } from './select-ca.js';
import { trigger } from './trigger.js';
import { validate } from './validate.js';

export const stageHandlers: Record<StageName, StageHandler> = {
  discover,
  trigger,
  'select-ca': selectCa,
  'approve-issue': approvalGate('issue'),
  issue,
  'approve-deploy': approvalGate('deploy'),
  deploy,
  validate,
  notify,
  rollback,
};
