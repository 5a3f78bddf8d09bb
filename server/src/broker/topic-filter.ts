// MQTT topic filter matching [MQTT-4.7], for dispatching one connection's messages to the server's
// subscriptions. `$` topics match only filters that name their first level [MQTT-4.7.2-1].

/** Whether `topic` matches `filter` (`+` one level, `#` the rest, including the parent level). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
