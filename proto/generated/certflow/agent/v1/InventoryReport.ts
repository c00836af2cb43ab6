// Original file: /work/main/proto/certflow/agent/v1/agent.proto

import type { CertificateOccurrence as _certflow_agent_v1_CertificateOccurrence, CertificateOccurrence__Output as _certflow_agent_v1_CertificateOccurrence__Output } from '../../../certflow/agent/v1/CertificateOccurrence.js';
import type { ScanProblem as _certflow_agent_v1_ScanProblem, ScanProblem__Output as _certflow_agent_v1_ScanProblem__Output } from '../../../certflow/agent/v1/ScanProblem.js';

/**
 * A full inventory may be larger than one message, so it is sent in chunks that share a report_id. The
 * controller applies a report only when its last chunk arrives, so a broken stream never applies half a
 * report: locations absent from a complete full report are marked removed.
 */
export interface InventoryReport {
  'reportId'?: (string);
  'chunkIndex'?: (number);
  'lastChunk'?: (boolean);
  'full'?: (boolean);
  'occurrences'?: (_certflow_agent_v1_CertificateOccurrence)[];
  'problems'?: (_certflow_agent_v1_ScanProblem)[];
  /**
   * The roots that were scanned, so the controller knows what "absent" means.
   */
  'scannedRoots'?: (string)[];
}

/**
 * A full inventory may be larger than one message, so it is sent in chunks that share a report_id. The
 * controller applies a report only when its last chunk arrives, so a broken stream never applies half a
 * report: locations absent from a complete full report are marked removed.
 */
export interface InventoryReport__Output {
  'reportId': (string);
  'chunkIndex': (number);
  'lastChunk': (boolean);
  'full': (boolean);
  'occurrences': (_certflow_agent_v1_CertificateOccurrence__Output)[];
  'problems': (_certflow_agent_v1_ScanProblem__Output)[];
  /**
   * The roots that were scanned, so the controller knows what "absent" means.
   */
  'scannedRoots': (string)[];
}
