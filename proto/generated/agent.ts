import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _certflow_agent_v1_Ack, Ack__Output as _certflow_agent_v1_Ack__Output } from './certflow/agent/v1/Ack.js';
import type { AgentGatewayClient as _certflow_agent_v1_AgentGatewayClient, AgentGatewayDefinition as _certflow_agent_v1_AgentGatewayDefinition } from './certflow/agent/v1/AgentGateway.js';
import type { AgentMessage as _certflow_agent_v1_AgentMessage, AgentMessage__Output as _certflow_agent_v1_AgentMessage__Output } from './certflow/agent/v1/AgentMessage.js';
import type { CertificateOccurrence as _certflow_agent_v1_CertificateOccurrence, CertificateOccurrence__Output as _certflow_agent_v1_CertificateOccurrence__Output } from './certflow/agent/v1/CertificateOccurrence.js';
import type { CheckIn as _certflow_agent_v1_CheckIn, CheckIn__Output as _certflow_agent_v1_CheckIn__Output } from './certflow/agent/v1/CheckIn.js';
import type { ControllerMessage as _certflow_agent_v1_ControllerMessage, ControllerMessage__Output as _certflow_agent_v1_ControllerMessage__Output } from './certflow/agent/v1/ControllerMessage.js';
import type { CsrOutput as _certflow_agent_v1_CsrOutput, CsrOutput__Output as _certflow_agent_v1_CsrOutput__Output } from './certflow/agent/v1/CsrOutput.js';
import type { DeployJob as _certflow_agent_v1_DeployJob, DeployJob__Output as _certflow_agent_v1_DeployJob__Output } from './certflow/agent/v1/DeployJob.js';
import type { DeployOutput as _certflow_agent_v1_DeployOutput, DeployOutput__Output as _certflow_agent_v1_DeployOutput__Output } from './certflow/agent/v1/DeployOutput.js';
import type { DeployTargetSpec as _certflow_agent_v1_DeployTargetSpec, DeployTargetSpec__Output as _certflow_agent_v1_DeployTargetSpec__Output } from './certflow/agent/v1/DeployTargetSpec.js';
import type { EncryptedKey as _certflow_agent_v1_EncryptedKey, EncryptedKey__Output as _certflow_agent_v1_EncryptedKey__Output } from './certflow/agent/v1/EncryptedKey.js';
import type { EndpointCheck as _certflow_agent_v1_EndpointCheck, EndpointCheck__Output as _certflow_agent_v1_EndpointCheck__Output } from './certflow/agent/v1/EndpointCheck.js';
import type { EndpointObservation as _certflow_agent_v1_EndpointObservation, EndpointObservation__Output as _certflow_agent_v1_EndpointObservation__Output } from './certflow/agent/v1/EndpointObservation.js';
import type { EnrollRequest as _certflow_agent_v1_EnrollRequest, EnrollRequest__Output as _certflow_agent_v1_EnrollRequest__Output } from './certflow/agent/v1/EnrollRequest.js';
import type { EnrollResponse as _certflow_agent_v1_EnrollResponse, EnrollResponse__Output as _certflow_agent_v1_EnrollResponse__Output } from './certflow/agent/v1/EnrollResponse.js';
import type { ExportKeyJob as _certflow_agent_v1_ExportKeyJob, ExportKeyJob__Output as _certflow_agent_v1_ExportKeyJob__Output } from './certflow/agent/v1/ExportKeyJob.js';
import type { ExportKeyOutput as _certflow_agent_v1_ExportKeyOutput, ExportKeyOutput__Output as _certflow_agent_v1_ExportKeyOutput__Output } from './certflow/agent/v1/ExportKeyOutput.js';
import type { FileProblem as _certflow_agent_v1_FileProblem, FileProblem__Output as _certflow_agent_v1_FileProblem__Output } from './certflow/agent/v1/FileProblem.js';
import type { Hello as _certflow_agent_v1_Hello, Hello__Output as _certflow_agent_v1_Hello__Output } from './certflow/agent/v1/Hello.js';
import type { HostFacts as _certflow_agent_v1_HostFacts, HostFacts__Output as _certflow_agent_v1_HostFacts__Output } from './certflow/agent/v1/HostFacts.js';
import type { Http01ChallengeJob as _certflow_agent_v1_Http01ChallengeJob, Http01ChallengeJob__Output as _certflow_agent_v1_Http01ChallengeJob__Output } from './certflow/agent/v1/Http01ChallengeJob.js';
import type { Http01Output as _certflow_agent_v1_Http01Output, Http01Output__Output as _certflow_agent_v1_Http01Output__Output } from './certflow/agent/v1/Http01Output.js';
import type { Http01Token as _certflow_agent_v1_Http01Token, Http01Token__Output as _certflow_agent_v1_Http01Token__Output } from './certflow/agent/v1/Http01Token.js';
import type { InventoryReport as _certflow_agent_v1_InventoryReport, InventoryReport__Output as _certflow_agent_v1_InventoryReport__Output } from './certflow/agent/v1/InventoryReport.js';
import type { Job as _certflow_agent_v1_Job, Job__Output as _certflow_agent_v1_Job__Output } from './certflow/agent/v1/Job.js';
import type { JobResult as _certflow_agent_v1_JobResult, JobResult__Output as _certflow_agent_v1_JobResult__Output } from './certflow/agent/v1/JobResult.js';
import type { KeyRecipient as _certflow_agent_v1_KeyRecipient, KeyRecipient__Output as _certflow_agent_v1_KeyRecipient__Output } from './certflow/agent/v1/KeyRecipient.js';
import type { Keystore as _certflow_agent_v1_Keystore, Keystore__Output as _certflow_agent_v1_Keystore__Output } from './certflow/agent/v1/Keystore.js';
import type { ListenAddress as _certflow_agent_v1_ListenAddress, ListenAddress__Output as _certflow_agent_v1_ListenAddress__Output } from './certflow/agent/v1/ListenAddress.js';
import type { LocationRef as _certflow_agent_v1_LocationRef, LocationRef__Output as _certflow_agent_v1_LocationRef__Output } from './certflow/agent/v1/LocationRef.js';
import type { MakeCsrJob as _certflow_agent_v1_MakeCsrJob, MakeCsrJob__Output as _certflow_agent_v1_MakeCsrJob__Output } from './certflow/agent/v1/MakeCsrJob.js';
import type { NetworkScanAssignment as _certflow_agent_v1_NetworkScanAssignment, NetworkScanAssignment__Output as _certflow_agent_v1_NetworkScanAssignment__Output } from './certflow/agent/v1/NetworkScanAssignment.js';
import type { RecoveryOutcome as _certflow_agent_v1_RecoveryOutcome, RecoveryOutcome__Output as _certflow_agent_v1_RecoveryOutcome__Output } from './certflow/agent/v1/RecoveryOutcome.js';
import type { RenewIdentityRequest as _certflow_agent_v1_RenewIdentityRequest, RenewIdentityRequest__Output as _certflow_agent_v1_RenewIdentityRequest__Output } from './certflow/agent/v1/RenewIdentityRequest.js';
import type { RenewIdentityResponse as _certflow_agent_v1_RenewIdentityResponse, RenewIdentityResponse__Output as _certflow_agent_v1_RenewIdentityResponse__Output } from './certflow/agent/v1/RenewIdentityResponse.js';
import type { RescanJob as _certflow_agent_v1_RescanJob, RescanJob__Output as _certflow_agent_v1_RescanJob__Output } from './certflow/agent/v1/RescanJob.js';
import type { RollbackJob as _certflow_agent_v1_RollbackJob, RollbackJob__Output as _certflow_agent_v1_RollbackJob__Output } from './certflow/agent/v1/RollbackJob.js';
import type { RollbackOutput as _certflow_agent_v1_RollbackOutput, RollbackOutput__Output as _certflow_agent_v1_RollbackOutput__Output } from './certflow/agent/v1/RollbackOutput.js';
import type { ScanProblem as _certflow_agent_v1_ScanProblem, ScanProblem__Output as _certflow_agent_v1_ScanProblem__Output } from './certflow/agent/v1/ScanProblem.js';
import type { ServiceBinding as _certflow_agent_v1_ServiceBinding, ServiceBinding__Output as _certflow_agent_v1_ServiceBinding__Output } from './certflow/agent/v1/ServiceBinding.js';
import type { StepTiming as _certflow_agent_v1_StepTiming, StepTiming__Output as _certflow_agent_v1_StepTiming__Output } from './certflow/agent/v1/StepTiming.js';
import type { TargetOutcome as _certflow_agent_v1_TargetOutcome, TargetOutcome__Output as _certflow_agent_v1_TargetOutcome__Output } from './certflow/agent/v1/TargetOutcome.js';
import type { TargetReload as _certflow_agent_v1_TargetReload, TargetReload__Output as _certflow_agent_v1_TargetReload__Output } from './certflow/agent/v1/TargetReload.js';
import type { TlsEndpoint as _certflow_agent_v1_TlsEndpoint, TlsEndpoint__Output as _certflow_agent_v1_TlsEndpoint__Output } from './certflow/agent/v1/TlsEndpoint.js';
import type { ValidateJob as _certflow_agent_v1_ValidateJob, ValidateJob__Output as _certflow_agent_v1_ValidateJob__Output } from './certflow/agent/v1/ValidateJob.js';
import type { ValidateOutput as _certflow_agent_v1_ValidateOutput, ValidateOutput__Output as _certflow_agent_v1_ValidateOutput__Output } from './certflow/agent/v1/ValidateOutput.js';
import type { Welcome as _certflow_agent_v1_Welcome, Welcome__Output as _certflow_agent_v1_Welcome__Output } from './certflow/agent/v1/Welcome.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  certflow: {
    agent: {
      v1: {
        Ack: MessageTypeDefinition<_certflow_agent_v1_Ack, _certflow_agent_v1_Ack__Output>
        AgentGateway: SubtypeConstructor<typeof grpc.Client, _certflow_agent_v1_AgentGatewayClient> & { service: _certflow_agent_v1_AgentGatewayDefinition }
        AgentMessage: MessageTypeDefinition<_certflow_agent_v1_AgentMessage, _certflow_agent_v1_AgentMessage__Output>
        CertificateOccurrence: MessageTypeDefinition<_certflow_agent_v1_CertificateOccurrence, _certflow_agent_v1_CertificateOccurrence__Output>
        CheckIn: MessageTypeDefinition<_certflow_agent_v1_CheckIn, _certflow_agent_v1_CheckIn__Output>
        ControllerMessage: MessageTypeDefinition<_certflow_agent_v1_ControllerMessage, _certflow_agent_v1_ControllerMessage__Output>
        CsrOutput: MessageTypeDefinition<_certflow_agent_v1_CsrOutput, _certflow_agent_v1_CsrOutput__Output>
        DeployJob: MessageTypeDefinition<_certflow_agent_v1_DeployJob, _certflow_agent_v1_DeployJob__Output>
        DeployOutput: MessageTypeDefinition<_certflow_agent_v1_DeployOutput, _certflow_agent_v1_DeployOutput__Output>
        DeployTargetSpec: MessageTypeDefinition<_certflow_agent_v1_DeployTargetSpec, _certflow_agent_v1_DeployTargetSpec__Output>
        EncryptedKey: MessageTypeDefinition<_certflow_agent_v1_EncryptedKey, _certflow_agent_v1_EncryptedKey__Output>
        EndpointCheck: MessageTypeDefinition<_certflow_agent_v1_EndpointCheck, _certflow_agent_v1_EndpointCheck__Output>
        EndpointObservation: MessageTypeDefinition<_certflow_agent_v1_EndpointObservation, _certflow_agent_v1_EndpointObservation__Output>
        EnrollRequest: MessageTypeDefinition<_certflow_agent_v1_EnrollRequest, _certflow_agent_v1_EnrollRequest__Output>
        EnrollResponse: MessageTypeDefinition<_certflow_agent_v1_EnrollResponse, _certflow_agent_v1_EnrollResponse__Output>
        ExportKeyJob: MessageTypeDefinition<_certflow_agent_v1_ExportKeyJob, _certflow_agent_v1_ExportKeyJob__Output>
        ExportKeyOutput: MessageTypeDefinition<_certflow_agent_v1_ExportKeyOutput, _certflow_agent_v1_ExportKeyOutput__Output>
        FileProblem: MessageTypeDefinition<_certflow_agent_v1_FileProblem, _certflow_agent_v1_FileProblem__Output>
        Hello: MessageTypeDefinition<_certflow_agent_v1_Hello, _certflow_agent_v1_Hello__Output>
        HostFacts: MessageTypeDefinition<_certflow_agent_v1_HostFacts, _certflow_agent_v1_HostFacts__Output>
        Http01ChallengeJob: MessageTypeDefinition<_certflow_agent_v1_Http01ChallengeJob, _certflow_agent_v1_Http01ChallengeJob__Output>
        Http01Output: MessageTypeDefinition<_certflow_agent_v1_Http01Output, _certflow_agent_v1_Http01Output__Output>
        Http01Token: MessageTypeDefinition<_certflow_agent_v1_Http01Token, _certflow_agent_v1_Http01Token__Output>
        InventoryReport: MessageTypeDefinition<_certflow_agent_v1_InventoryReport, _certflow_agent_v1_InventoryReport__Output>
        Job: MessageTypeDefinition<_certflow_agent_v1_Job, _certflow_agent_v1_Job__Output>
        JobResult: MessageTypeDefinition<_certflow_agent_v1_JobResult, _certflow_agent_v1_JobResult__Output>
        KeyRecipient: MessageTypeDefinition<_certflow_agent_v1_KeyRecipient, _certflow_agent_v1_KeyRecipient__Output>
        Keystore: MessageTypeDefinition<_certflow_agent_v1_Keystore, _certflow_agent_v1_Keystore__Output>
        ListenAddress: MessageTypeDefinition<_certflow_agent_v1_ListenAddress, _certflow_agent_v1_ListenAddress__Output>
        LocationRef: MessageTypeDefinition<_certflow_agent_v1_LocationRef, _certflow_agent_v1_LocationRef__Output>
        MakeCsrJob: MessageTypeDefinition<_certflow_agent_v1_MakeCsrJob, _certflow_agent_v1_MakeCsrJob__Output>
        NetworkScanAssignment: MessageTypeDefinition<_certflow_agent_v1_NetworkScanAssignment, _certflow_agent_v1_NetworkScanAssignment__Output>
        RecoveryOutcome: MessageTypeDefinition<_certflow_agent_v1_RecoveryOutcome, _certflow_agent_v1_RecoveryOutcome__Output>
        RenewIdentityRequest: MessageTypeDefinition<_certflow_agent_v1_RenewIdentityRequest, _certflow_agent_v1_RenewIdentityRequest__Output>
        RenewIdentityResponse: MessageTypeDefinition<_certflow_agent_v1_RenewIdentityResponse, _certflow_agent_v1_RenewIdentityResponse__Output>
        RescanJob: MessageTypeDefinition<_certflow_agent_v1_RescanJob, _certflow_agent_v1_RescanJob__Output>
        RollbackJob: MessageTypeDefinition<_certflow_agent_v1_RollbackJob, _certflow_agent_v1_RollbackJob__Output>
        RollbackOutput: MessageTypeDefinition<_certflow_agent_v1_RollbackOutput, _certflow_agent_v1_RollbackOutput__Output>
        ScanProblem: MessageTypeDefinition<_certflow_agent_v1_ScanProblem, _certflow_agent_v1_ScanProblem__Output>
        ServiceBinding: MessageTypeDefinition<_certflow_agent_v1_ServiceBinding, _certflow_agent_v1_ServiceBinding__Output>
        StepTiming: MessageTypeDefinition<_certflow_agent_v1_StepTiming, _certflow_agent_v1_StepTiming__Output>
        TargetOutcome: MessageTypeDefinition<_certflow_agent_v1_TargetOutcome, _certflow_agent_v1_TargetOutcome__Output>
        TargetReload: MessageTypeDefinition<_certflow_agent_v1_TargetReload, _certflow_agent_v1_TargetReload__Output>
        TlsEndpoint: MessageTypeDefinition<_certflow_agent_v1_TlsEndpoint, _certflow_agent_v1_TlsEndpoint__Output>
        ValidateJob: MessageTypeDefinition<_certflow_agent_v1_ValidateJob, _certflow_agent_v1_ValidateJob__Output>
        ValidateOutput: MessageTypeDefinition<_certflow_agent_v1_ValidateOutput, _certflow_agent_v1_ValidateOutput__Output>
        Welcome: MessageTypeDefinition<_certflow_agent_v1_Welcome, _certflow_agent_v1_Welcome__Output>
      }
    }
  }
}

