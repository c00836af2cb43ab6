// Original file: proto/certflow/agent/v1/agent.proto


export interface KeyRecipient {
  'agentId'?: (string);
  /**
   * The recipient's agent identity certificate: it must chain to the agent CA this agent trusts and
   * name agent_id, or the export is refused.
   */
  'identityCertificatePem'?: (string);
}

export interface KeyRecipient__Output {
  'agentId': (string);
  /**
   * The recipient's agent identity certificate: it must chain to the agent CA this agent trusts and
   * name agent_id, or the export is refused.
   */
  'identityCertificatePem': (string);
}
