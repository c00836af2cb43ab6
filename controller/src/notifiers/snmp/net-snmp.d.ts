// The part of net-snmp (which ships no types) that the SNMP notifier uses.
declare module 'net-snmp' {
  interface Session {
    trap(oid: string, varbinds: unknown[], options: object, callback: (error: Error | null) => void): void;
    inform(oid: string, varbinds: unknown[], options: object, callback: (error: Error | null) => void): void;
    on(event: 'error', listener: (error: Error) => void): void;
    close(): void;
  }
  const snmp: {
    Version2c: number;
    Version3: number;
    ObjectType: { OctetString: number; Integer: number };
    SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
    AuthProtocols: Record<string, number>;
    PrivProtocols: Record<string, number>;
    ResponseInvalidCode: { EAuthFailure: number };
    RequestTimedOutError: new (...args: never[]) => Error;
    ResponseInvalidError: new (...args: never[]) => Error & { code: number };
    createSession(target: string, community: string, options: object): Session;
    createV3Session(target: string, user: object, options: object): Session;
  };
  export default snmp;
}
