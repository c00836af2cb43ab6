// Original file: proto/certflow/agent/v1/agent.proto

import type { EncryptedKey as _certflow_agent_v1_EncryptedKey, EncryptedKey__Output as _certflow_agent_v1_EncryptedKey__Output } from '../../../certflow/agent/v1/EncryptedKey.js';

export interface ExportKeyOutput {
  'keyId'?: (string);
  'publicKeySha256'?: (string);
  'blobs'?: (_certflow_agent_v1_EncryptedKey)[];
}

export interface ExportKeyOutput__Output {
  'keyId': (string);
  'publicKeySha256': (string);
  'blobs': (_certflow_agent_v1_EncryptedKey__Output)[];
}
