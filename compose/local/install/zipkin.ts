// Zipkin's server as its executable jar (the `exec` classifier of io.zipkin:zipkin-server, Lens UI
// included), fetched by Maven into the cache keyed by the pinned version. The Maven repository
// cache is the one Kafka's jars use.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { run, which } from '../exec.js';
import { cacheDir } from '../paths.js';
import { info, step, UserFacingError } from '../progress.js';
import { zipkinHome, zipkinJar } from '../tools.js';
import { localField, pin } from '../versions.js';

export function zipkinInstalled(): boolean {
  return existsSync(join(zipkinHome(), '.complete'));
}

export async function ensureZipkin(logDir: string): Promise<void> {
  const { version } = pin('zipkin');
  if (zipkinInstalled()) {
    info(`Zipkin ${version}: cached in ${zipkinHome()}`);
    return;
  }
  if (!which('mvn'))
    throw new UserFacingError('Maven (mvn) is needed to fetch the Zipkin server: apt-get install -y maven');
  if (!which('java'))
    throw new UserFacingError('Java 17+ is needed to run Zipkin: apt-get install -y default-jre-headless');
  const home = zipkinHome();
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const artifact = `${localField('zipkin', 'maven')}:${localField('zipkin', 'packageVersion')}:jar:exec`;
  await step(`Zipkin ${version}: fetching ${artifact} with Maven`, () =>
    run(
      'mvn',
      [
        '-B',
        '-ntp',
        `-Dmaven.repo.local=${join(cacheDir(), 'm2')}`,
        'dependency:copy',
        `-Dartifact=${artifact}`,
        `-DoutputDirectory=${dirname(zipkinJar())}`,
      ],
      {
        cwd: home,
        logFile: join(logDir, 'zipkin-maven.log'),
        hint: 'Maven must reach Maven Central (or your mirror in ~/.m2/settings.xml).',
      },
    ),
  );
  if (!existsSync(zipkinJar()))
    throw new UserFacingError(`Maven finished but ${basename(zipkinJar())} is not in ${home}`);
  writeFileSync(join(home, '.complete'), `${artifact}\n`);
}
