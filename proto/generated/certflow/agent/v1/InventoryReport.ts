// Original file: proto/certflow/agent/v1/agent.proto

import type { CertificateOccurrence as _certflow_agent_v1_CertificateOccurrence, CertificateOccurrence__Output as _certflow_agent_v1_CertificateOccurrence__Output } from '../../../certflow/agent/v1/CertificateOccurrence.js';
import type { ScanProblem as _certflow_agent_v1_ScanProblem, ScanProblem__Output as _certflow_agent_v1_ScanProblem__Output } from '../../../certflow/agent/v1/ScanProblem.js';
import type { LocationRef as _certflow_agent_v1_LocationRef, LocationRef__Output as _certflow_agent_v1_LocationRef__Output } from '../../../certflow/agent/v1/LocationRef.js';
import type { Keystore as _certflow_agent_v1_Keystore, Keystore__Output as _certflow_agent_v1_Keystore__Output } from '../../../certflow/agent/v1/Keystore.js';
import type { ServiceBinding as _certflow_agent_v1_ServiceBinding, ServiceBinding__Output as _certflow_agent_v1_ServiceBinding__Output } from '../../../certflow/agent/v1/ServiceBinding.js';
import type { EndpointObservation as _certflow_agent_v1_EndpointObservation, EndpointObservation__Output as _certflow_agent_v1_EndpointObservation__Output } from '../../../certflow/agent/v1/EndpointObservation.js';

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
  /**
   * A delta report (full = false) lists here the file locations that are gone or now hold another
   * certificate; its occurrences are the added and changed ones.
   */
  'removed'?: (_certflow_agent_v1_LocationRef)[];
  /**
   * Keystores, bindings and endpoints are small: each is sent whole, and only when it changed (the
   * *_included flag says the list replaces the controller's copy, even when empty).
   */
  'keystoresIncluded'?: (boolean);
  'keystores'?: (_certflow_agent_v1_Keystore)[];
  'bindingsIncluded'?: (boolean);
  'bindings'?: (_certflow_agent_v1_ServiceBinding)[];
  'endpointsIncluded'?: (boolean);
  'endpoints'?: (_certflow_agent_v1_EndpointObservation)[];
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
  /**
   * A delta report (full = false) lists here the file locations that are gone or now hold another
   * certificate; its occurrences are the added and changed ones.
   */
  'removed': (_certflow_agent_v1_LocationRef__Output)[];
  /**
   * Keystores, bindings and endpoints are small: each is sent whole, and only when it changed (the
   * *_included flag says the list replaces the controller's copy, even when empty).
   */
  'keystoresIncluded': (boolean);
  'keystores': (_certflow_agent_v1_Keystore__Output)[];
  'bindingsIncluded': (boolean);
  'bindings': (_certflow_agent_v1_ServiceBinding__Output)[];
  'endpointsIncluded': (boolean);
  'endpoints': (_certflow_agent_v1_EndpointObservation__Output)[];
}
