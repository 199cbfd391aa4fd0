import { describe, expect, it } from 'vitest';
import type { CallRecord } from '$lib/bindings/CallRecord';
import type { HallEvent } from '$lib/bindings/HallEvent';
import type { QueueBoard } from '$lib/bindings/QueueBoard';
import type { QueuePaint } from '$lib/bindings/QueuePaint';
import { paintBoard, queueRelevant } from './paint';

const cat = { id: 'c1', prefix: 'A', name: '户籍' };
const win = { id: 'w1', number: 1, name: '综合窗口' };

function board(): QueueBoard {
  return {
    hall_name: '政务服务中心',
    now: '2026-11-23T02:00:00Z',
    day: '2026-11-23',
    announce_times: 2,
    categories: [
      {
        category: cat, waiting: 3, priority_waiting: 0, issued_today: 5, remaining: 994,
        issue_from: '08:30', issue_until: '17:00', issuing_now: true, closed: null, windows_open: 1,
        estimated_minutes: 15,
      },
    ],
    windows: [{ window: win, categories: [cat], clerk: '张伟', paused: null, current: null, routed_to: null }],
    recent_calls: [],
    day_off: null,
  };
}

function call(seq: number, number: string): CallRecord {
  return {
    seq, ticket_id: `t${seq}`, number, window_number: 1, window_name: '综合窗口', kind: 'call',
    at: '2026-11-23T02:01:00Z', applicant: null, green: false,
  };
}

function event(paint: QueuePaint | undefined, topic: HallEvent['topic'] = 'queue', op = 'queue.call_next'): HallEvent {
  return { topic, op, subject_id: null, source: null, at: '2026-11-23T02:01:00Z', paint };
}

describe('a queue event paints the board without a read', () => {
  it('shows the call, the window’s number and the new counts', () => {
    const b = board();
    const painted = paintBoard(b, event({
      call: call(7, 'A003'),
      counts: [{ category_id: 'c1', waiting: 2, priority_waiting: 0, issued_today: 5, remaining: 994, estimated_minutes: 10 }],
      window: { window_id: 'w1', current: { ticket_id: 't7', number: 'A003', serving: false, called_at: '2026-11-23T02:01:00Z', applicant: null } },
    }));
    expect(painted).toBe(true);
    expect(b.recent_calls.map((c) => c.number)).toEqual(['A003']);
    expect(b.windows[0].current?.number).toBe('A003');
    expect(b.categories[0].waiting).toBe(2);
    expect(b.categories[0].estimated_minutes).toBe(10);
  });

  it('keeps calls newest first, once each, at most ten', () => {
    const b = board();
    for (let i = 1; i <= 12; i++) paintBoard(b, event({ call: call(i, `A${i}`), counts: [], window: null }));
    paintBoard(b, event({ call: call(12, 'A12'), counts: [], window: null }));
    expect(b.recent_calls.map((c) => c.seq)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
  });

  it('marks a category sold out when its last number is taken', () => {
    const b = board();
    paintBoard(b, event({ call: null, counts: [{ category_id: 'c1', waiting: 4, priority_waiting: 0, issued_today: 999, remaining: 0, estimated_minutes: null }], window: null }, 'queue', 'ticket.issue'));
    expect(b.categories[0].closed).toBe('sold_out');
    expect(b.categories[0].issuing_now).toBe(false);
  });

  it('asks for a read when the event carries no paint or names what the board has not read', () => {
    expect(paintBoard(board(), event(undefined, 'queue', 'queue.pause'))).toBe(false);
    expect(paintBoard(board(), event({ call: null, counts: [], window: null }, 'window', 'window.update'))).toBe(false);
    expect(paintBoard(board(), event({ call: null, counts: [{ category_id: 'new', waiting: 1, priority_waiting: 0, issued_today: 1, remaining: 998, estimated_minutes: null }], window: null }))).toBe(false);
    expect(paintBoard(board(), event({ call: null, counts: [], window: { window_id: 'w9', current: null } }))).toBe(false);
  });

  it('lets reports, the catalog and cases pass the queue screens by', () => {
    expect(queueRelevant(event(undefined, 'report', 'report.file'))).toBe(false);
    expect(queueRelevant(event(undefined, 'catalog', 'catalog.update'))).toBe(false);
    expect(queueRelevant(event(undefined, 'case', 'case.act'))).toBe(false);
    expect(queueRelevant(event(undefined, 'case', 'handover.start'))).toBe(true);
    expect(queueRelevant(event(undefined, 'session', 'auth.sign_in'))).toBe(true);
  });
});
