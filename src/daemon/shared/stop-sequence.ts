// How a pcheck stops, in either mode: at most once; a signal is logged first (`SIGTERM Catch
// (15)!!`), and the caller's stop runs, which ends with `Stop pcheck!!` (SPEC §5). A signal that
// comes while pcheck stops (a second SIGTERM, a SIGHUP) does nothing.
import type { Logger } from '../../log/logger';

export type StopSignal = 'SIGTERM' | 'SIGINT';

export class StopSequence {
  private started = false;

  constructor(private readonly log: Logger) {}

  get stopping(): boolean {
    return this.started;
  }

  /** True the first time only: the caller goes on stopping. */
  begin(): boolean {
    if (this.started) return false;
    this.started = true;
    return true;
  }

  /** SIGTERM / SIGINT: logged, then `stop` (once). */
  async onSignal(name: StopSignal, num: number, stop: () => Promise<void>): Promise<void> {
    if (this.started) return;
    this.log.notice(`${name} Catch (${num})!!`);
    await stop();
  }
}
