// Original file: proto/certflow/agent/v1/agent.proto

import type { Http01Token as _certflow_agent_v1_Http01Token, Http01Token__Output as _certflow_agent_v1_Http01Token__Output } from '../../../certflow/agent/v1/Http01Token.js';

/**
 * Answer ACME http-01 challenges on this host: serve each token's key authorization at
 * http://NAME/.well-known/acme-challenge/TOKEN, either from a small HTTP server on a port or as files
 * under a web server's webroot. The agent's own config decides what is allowed (acme.http01.ports,
 * acme.http01.bindAddresses; a webroot must be inside deploy.allowedPaths): the controller can never
 * make an agent listen on another port or write elsewhere. "start" answers once the tokens are served;
 * "stop" (same challenge_id) removes them. Tokens also stop being served after ttl_seconds.
 */
export interface Http01ChallengeJob {
  /**
   * "start" or "stop".
   */
  'action'?: (string);
  /**
   * Chosen by the controller; a stop names the start it ends. [A-Za-z0-9._-], at most 128 characters.
   */
  'challengeId'?: (string);
  /**
   * For "start": the tokens to serve (several names of one order, one job).
   */
  'tokens'?: (_certflow_agent_v1_Http01Token)[];
  /**
   * Port mode: the port to listen on and the address to bind (empty: every address).
   */
  'port'?: (number);
  'bindAddress'?: (string);
  /**
   * Webroot mode (non-empty): files are written to WEBROOT/.well-known/acme-challenge/TOKEN instead.
   */
  'webroot'?: (string);
  /**
   * Serve at most this long; the agent caps it with its own acme.http01.maxServeSeconds.
   */
  'ttlSeconds'?: (number);
}

/**
 * Answer ACME http-01 challenges on this host: serve each token's key authorization at
 * http://NAME/.well-known/acme-challenge/TOKEN, either from a small HTTP server on a port or as files
 * under a web server's webroot. The agent's own config decides what is allowed (acme.http01.ports,
 * acme.http01.bindAddresses; a webroot must be inside deploy.allowedPaths): the controller can never
 * make an agent listen on another port or write elsewhere. "start" answers once the tokens are served;
 * "stop" (same challenge_id) removes them. Tokens also stop being served after ttl_seconds.
 */
export interface Http01ChallengeJob__Output {
  /**
   * "start" or "stop".
   */
  'action': (string);
  /**
   * Chosen by the controller; a stop names the start it ends. [A-Za-z0-9._-], at most 128 characters.
   */
  'challengeId': (string);
  /**
   * For "start": the tokens to serve (several names of one order, one job).
   */
  'tokens': (_certflow_agent_v1_Http01Token__Output)[];
  /**
   * Port mode: the port to listen on and the address to bind (empty: every address).
   */
  'port': (number);
  'bindAddress': (string);
  /**
   * Webroot mode (non-empty): files are written to WEBROOT/.well-known/acme-challenge/TOKEN instead.
   */
  'webroot': (string);
  /**
   * Serve at most this long; the agent caps it with its own acme.http01.maxServeSeconds.
   */
  'ttlSeconds': (number);
}
