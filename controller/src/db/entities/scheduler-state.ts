import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/** Small durable values of the scheduler (e.g. how far auto-adoption has looked through the inventory). */
export const SchedulerState = defineEntity({
  name: 'SchedulerState',
  tableName: 'scheduler_state',
  properties: (p) => ({
    key: p.string().primary(),
    value: p.json<Record<string, unknown>>(),
    updatedAt: p.datetime(),
  }),
});
export type SchedulerState = InferEntity<typeof SchedulerState>;
