// Original file: proto/certflow/agent/v1/agent.proto

import type { Welcome as _certflow_agent_v1_Welcome, Welcome__Output as _certflow_agent_v1_Welcome__Output } from '../../../certflow/agent/v1/Welcome.js';
import type { Ack as _certflow_agent_v1_Ack, Ack__Output as _certflow_agent_v1_Ack__Output } from '../../../certflow/agent/v1/Ack.js';
import type { Job as _certflow_agent_v1_Job, Job__Output as _certflow_agent_v1_Job__Output } from '../../../certflow/agent/v1/Job.js';

export interface ControllerMessage {
  'welcome'?: (_certflow_agent_v1_Welcome | null);
  'ack'?: (_certflow_agent_v1_Ack | null);
  'job'?: (_certflow_agent_v1_Job | null);
  'body'?: "welcome"|"ack"|"job";
}

export interface ControllerMessage__Output {
  'welcome'?: (_certflow_agent_v1_Welcome__Output | null);
  'ack'?: (_certflow_agent_v1_Ack__Output | null);
  'job'?: (_certflow_agent_v1_Job__Output | null);
  'body'?: "welcome"|"ack"|"job";
}
