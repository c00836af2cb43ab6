import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/** "certificate.expiring was raised for this certificate at this many days left": once per threshold. */
export const ExpiryNotice = defineEntity({
  name: 'ExpiryNotice',
  tableName: 'expiry_notices',
  properties: (p) => ({
    certificateId: p.uuid().primary(),
    thresholdDays: p.integer().primary(),
    createdAt: p.datetime(),
  }),
});
export type ExpiryNotice = InferEntity<typeof ExpiryNotice>;
