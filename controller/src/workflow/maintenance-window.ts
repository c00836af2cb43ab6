// Maintenance windows: weekdays and a time range in an IANA time zone. A range whose end is before its
// start runs past midnight (22:00–02:00); the weekday is the day the window opens.
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface MaintenanceWindow {
  days?: string[];
  start: string;
  end: string;
  timeZone: string;
}

// Building a formatter costs far more than using one (ICU loads the zone's rules): one per time zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(now: Date, timeZone: string): { day: string; minutes: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: get('weekday').toLowerCase().slice(0, 3), minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inMaintenanceWindow(windows: MaintenanceWindow[], now: Date): boolean {
  return windows.some((w) => {
    const { day, minutes } = localParts(now, w.timeZone);
    const start = toMinutes(w.start);
    const end = toMinutes(w.end);
    const dayOk = (d: string) => !w.days || w.days.length === 0 || w.days.includes(d);
    if (start <= end) return dayOk(day) && minutes >= start && minutes < end;
    // Past midnight: after the start on an allowed day, or before the end on the day after one.
    const yesterday = WEEKDAY_NAMES[(WEEKDAY_NAMES.indexOf(day as (typeof WEEKDAY_NAMES)[number]) + 6) % 7]!;
    return (dayOk(day) && minutes >= start) || (dayOk(yesterday) && minutes < end);
  });
}
