// Every entity of the controller, for the ORM's configuration.
import { AcmeOrder } from './acme-order.js';
import { Agent } from './agent.js';
import { AgentJob } from './agent-job.js';
import { AdminToken } from './admin-token.js';
import { AuditEvent } from './audit-event.js';
import { AuditPending } from './audit-pending.js';
import { Certificate } from './certificate.js';
import { CertificateAuthority } from './certificate-authority.js';
import { CertificateLocation } from './certificate-location.js';
import { Endpoint } from './endpoint.js';
import { EnrollmentToken } from './enrollment-token.js';
import { IssuedCertificateRecord } from './issued-certificate-record.js';
import { Keystore } from './keystore.js';
import { NotificationChannel } from './notification-channel.js';
import { NotificationDelivery } from './notification-delivery.js';
import { Secret } from './secret.js';
import { ServiceBinding } from './service-binding.js';
import { Template } from './template.js';
import { TemplateVersion } from './template-version.js';
import { ApprovalDecision, ApprovalLink, ApprovalRequest } from './approval.js';
import { ExpiryNotice } from './expiry-notice.js';
import { ManagedCertificate } from './managed-certificate.js';
import { OutboxMessage } from './outbox-message.js';
import { SchedulerState } from './scheduler-state.js';
import { WorkflowRun } from './workflow-run.js';
import { WorkflowStage } from './workflow-stage.js';

export { AcmeOrder, Agent, AgentJob, AdminToken, AuditEvent, AuditPending, Certificate, CertificateAuthority, CertificateLocation, Endpoint, EnrollmentToken, IssuedCertificateRecord, Keystore, Secret, ServiceBinding, Template, TemplateVersion,
  ApprovalDecision, ApprovalLink, ApprovalRequest, ManagedCertificate, OutboxMessage, SchedulerState, WorkflowRun, WorkflowStage,
  NotificationChannel, NotificationDelivery, ExpiryNotice };
export const allEntities = [AcmeOrder, Agent, AgentJob, AdminToken, AuditEvent, AuditPending, Certificate, CertificateAuthority, CertificateLocation, Endpoint, EnrollmentToken, IssuedCertificateRecord, Keystore, Secret, ServiceBinding, Template, TemplateVersion,
  ApprovalDecision, ApprovalLink, ApprovalRequest, ManagedCertificate, OutboxMessage, SchedulerState, WorkflowRun, WorkflowStage,
  NotificationChannel, NotificationDelivery, ExpiryNotice];
