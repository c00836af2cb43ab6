// Original file: proto/certflow/agent/v1/agent.proto


export interface Http01Token {
  /**
   * base64url, as the CA gave it.
   */
  'token'?: (string);
  'keyAuthorization'?: (string);
}

export interface Http01Token__Output {
  /**
   * base64url, as the CA gave it.
   */
  'token': (string);
  'keyAuthorization': (string);
}
