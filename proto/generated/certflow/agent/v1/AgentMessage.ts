// Original file: proto/certflow/agent/v1/agent.proto

import type { Hello as _certflow_agent_v1_Hello, Hello__Output as _certflow_agent_v1_Hello__Output } from '../../../certflow/agent/v1/Hello.js';
import type { CheckIn as _certflow_agent_v1_CheckIn, CheckIn__Output as _certflow_agent_v1_CheckIn__Output } from '../../../certflow/agent/v1/CheckIn.js';
import type { InventoryReport as _certflow_agent_v1_InventoryReport, InventoryReport__Output as _certflow_agent_v1_InventoryReport__Output } from '../../../certflow/agent/v1/InventoryReport.js';
import type { JobResult as _certflow_agent_v1_JobResult, JobResult__Output as _certflow_agent_v1_JobResult__Output } from '../../../certflow/agent/v1/JobResult.js';

export interface AgentMessage {
  'hello'?: (_certflow_agent_v1_Hello | null);
  'checkIn'?: (_certflow_agent_v1_CheckIn | null);
  'inventory'?: (_certflow_agent_v1_InventoryReport | null);
  'jobResult'?: (_certflow_agent_v1_JobResult | null);
  'body'?: "hello"|"checkIn"|"inventory"|"jobResult";
}

export interface AgentMessage__Output {
  'hello'?: (_certflow_agent_v1_Hello__Output | null);
  'checkIn'?: (_certflow_agent_v1_CheckIn__Output | null);
  'inventory'?: (_certflow_agent_v1_InventoryReport__Output | null);
  'jobResult'?: (_certflow_agent_v1_JobResult__Output | null);
  'body'?: "hello"|"checkIn"|"inventory"|"jobResult";
}
