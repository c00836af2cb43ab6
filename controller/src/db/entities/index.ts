// Every entity of the controller, for the ORM's configuration.
import { Agent } from './agent.js';
import { AgentJob } from './agent-job.js';
import { AdminToken } from './admin-token.js';
import { Certificate } from './certificate.js';
import { CertificateLocation } from './certificate-location.js';
import { EnrollmentToken } from './enrollment-token.js';
import { Secret } from './secret.js';

export { Agent, AgentJob, AdminToken, Certificate, CertificateLocation, EnrollmentToken, Secret };
export const allEntities = [Agent, AgentJob, AdminToken, Certificate, CertificateLocation, EnrollmentToken, Secret];
