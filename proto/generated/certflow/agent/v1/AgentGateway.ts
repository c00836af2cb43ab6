// Original file: proto/certflow/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _certflow_agent_v1_AgentMessage, AgentMessage__Output as _certflow_agent_v1_AgentMessage__Output } from '../../../certflow/agent/v1/AgentMessage.js';
import type { ControllerMessage as _certflow_agent_v1_ControllerMessage, ControllerMessage__Output as _certflow_agent_v1_ControllerMessage__Output } from '../../../certflow/agent/v1/ControllerMessage.js';
import type { EnrollRequest as _certflow_agent_v1_EnrollRequest, EnrollRequest__Output as _certflow_agent_v1_EnrollRequest__Output } from '../../../certflow/agent/v1/EnrollRequest.js';
import type { EnrollResponse as _certflow_agent_v1_EnrollResponse, EnrollResponse__Output as _certflow_agent_v1_EnrollResponse__Output } from '../../../certflow/agent/v1/EnrollResponse.js';
import type { RenewIdentityRequest as _certflow_agent_v1_RenewIdentityRequest, RenewIdentityRequest__Output as _certflow_agent_v1_RenewIdentityRequest__Output } from '../../../certflow/agent/v1/RenewIdentityRequest.js';
import type { RenewIdentityResponse as _certflow_agent_v1_RenewIdentityResponse, RenewIdentityResponse__Output as _certflow_agent_v1_RenewIdentityResponse__Output } from '../../../certflow/agent/v1/RenewIdentityResponse.js';

export interface AgentGatewayClient extends grpc.Client {
  /**
   * The long-lived session: the agent sends a Hello first, then check-ins, inventory and job results;
   * the controller sends a Welcome, acks and jobs. Needs the client certificate.
   */
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_certflow_agent_v1_AgentMessage, _certflow_agent_v1_ControllerMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_certflow_agent_v1_AgentMessage, _certflow_agent_v1_ControllerMessage__Output>;
  /**
   * The long-lived session: the agent sends a Hello first, then check-ins, inventory and job results;
   * the controller sends a Welcome, acks and jobs. Needs the client certificate.
   */
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_certflow_agent_v1_AgentMessage, _certflow_agent_v1_ControllerMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_certflow_agent_v1_AgentMessage, _certflow_agent_v1_ControllerMessage__Output>;
  
  /**
   * Exchange a single-use enrolment token and a CSR (key made on the host) for a client certificate.
   * Called without a client certificate.
   */
  Enroll(argument: _certflow_agent_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_certflow_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _certflow_agent_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_certflow_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _certflow_agent_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_certflow_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _certflow_agent_v1_EnrollRequest, callback: grpc.requestCallback<_certflow_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Exchange a single-use enrolment token and a CSR (key made on the host) for a client certificate.
   * Called without a client certificate.
   */
  enroll(argument: _certflow_agent_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_certflow_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _certflow_agent_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_certflow_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _certflow_agent_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_certflow_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _certflow_agent_v1_EnrollRequest, callback: grpc.requestCallback<_certflow_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Renew the agent's own client certificate before it expires. Needs the current client certificate.
   */
  RenewIdentity(argument: _certflow_agent_v1_RenewIdentityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_certflow_agent_v1_RenewIdentityResponse__Output>): grpc.ClientUnaryCall;
  RenewIdentity(argument: _certflow_agent_v1_RenewIdentityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_certflow_agent_v1_RenewIdentityResponse__Output>): grpc.ClientUnaryCall;
  RenewIdentity(argument: _certflow_agent_v1_RenewIdentityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_certflow_agent_v1_RenewIdentityResponse__Output>): grpc.ClientUnaryCall;
  RenewIdentity(argument: _certflow_agent_v1_RenewIdentityRequest, callback: grpc.requestCallback<_certflow_agent_v1_RenewIdentityResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Renew the agent's own client certificate before it expires. Needs the current client certificate.
   */
  renewIdentity(argument: _certflow_agent_v1_RenewIdentityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_certflow_agent_v1_RenewIdentityResponse__Output>): grpc.ClientUnaryCall;
  renewIdentity(argument: _certflow_agent_v1_RenewIdentityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_certflow_agent_v1_RenewIdentityResponse__Output>): grpc.ClientUnaryCall;
  renewIdentity(argument: _certflow_agent_v1_RenewIdentityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_certflow_agent_v1_RenewIdentityResponse__Output>): grpc.ClientUnaryCall;
  renewIdentity(argument: _certflow_agent_v1_RenewIdentityRequest, callback: grpc.requestCallback<_certflow_agent_v1_RenewIdentityResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentGatewayHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The long-lived session: the agent sends a Hello first, then check-ins, inventory and job results;
   * the controller sends a Welcome, acks and jobs. Needs the client certificate.
   */
  Connect: grpc.handleBidiStreamingCall<_certflow_agent_v1_AgentMessage__Output, _certflow_agent_v1_ControllerMessage>;
  
  /**
   * Exchange a single-use enrolment token and a CSR (key made on the host) for a client certificate.
   * Called without a client certificate.
   */
  Enroll: grpc.handleUnaryCall<_certflow_agent_v1_EnrollRequest__Output, _certflow_agent_v1_EnrollResponse>;
  
  /**
   * Renew the agent's own client certificate before it expires. Needs the current client certificate.
   */
  RenewIdentity: grpc.handleUnaryCall<_certflow_agent_v1_RenewIdentityRequest__Output, _certflow_agent_v1_RenewIdentityResponse>;
  
}

export interface AgentGatewayDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_certflow_agent_v1_AgentMessage, _certflow_agent_v1_ControllerMessage, _certflow_agent_v1_AgentMessage__Output, _certflow_agent_v1_ControllerMessage__Output>
  Enroll: MethodDefinition<_certflow_agent_v1_EnrollRequest, _certflow_agent_v1_EnrollResponse, _certflow_agent_v1_EnrollRequest__Output, _certflow_agent_v1_EnrollResponse__Output>
  RenewIdentity: MethodDefinition<_certflow_agent_v1_RenewIdentityRequest, _certflow_agent_v1_RenewIdentityResponse, _certflow_agent_v1_RenewIdentityRequest__Output, _certflow_agent_v1_RenewIdentityResponse__Output>
}
