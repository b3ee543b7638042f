import test from 'ava';
import { parsePortSpecs } from './port-specs.ts';

test('ports default to tcp, protocols are lower-cased, ranges are expanded', (t) => {
  t.deepEqual(parsePortSpecs(['80', '53/UDP', '7000-7002/sctp', '9000-9000']), ['80/tcp', '53/udp', '7000/sctp', '7001/sctp', '7002/sctp', '9000/tcp']);
});

test('host and IP parts are tolerated, only the container port counts', (t) => {
  t.deepEqual(parsePortSpecs(['8080:80', '127.0.0.1:8080:80/udp', '[::1]:1:2']), ['80/tcp', '80/udp', '2/tcp']);
});

test('bad ports are refused with BuildKit\'s messages', (t) => {
  t.throws(() => parsePortSpecs(['/tcp']), { message: 'invalid port: "/tcp": no port specified' });
  t.throws(() => parsePortSpecs(['80/icmp']), { message: 'invalid port: "80/icmp": invalid proto: icmp' });
  t.throws(() => parsePortSpecs(['http']), { message: 'invalid containerPort: http' });
  t.throws(() => parsePortSpecs(['90-80']), { message: 'invalid containerPort: 90-80' });
  t.throws(() => parsePortSpecs(['65536']), { message: 'invalid containerPort: 65536' });
  t.throws(() => parsePortSpecs(['1-2:3-5']), { message: 'invalid ranges specified for container and host Ports: 3-5 and 1-2' });
  t.throws(() => parsePortSpecs(['nohost:1:2']), { message: 'invalid IP address: nohost' });
});
