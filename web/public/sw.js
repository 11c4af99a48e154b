// Amphi's service worker: shows the reminders that arrive by Web Push ({title, body, url}) and opens
// the Space when one is clicked. Nothing is cached: the app works the same without it.
self.addEventListener('push', (event) => {
  let message = { title: 'Amphi', body: '', url: '/' };
  try {
    message = { ...message, ...event.data.json() };
  } catch {
    // not JSON: show the defaults
  }
  event.waitUntil(
    self.registration.showNotification(message.title, { body: message.body, data: { url: message.url }, tag: message.url }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url ?? '/';
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => w.url === url);
      return open !== undefined ? open.focus() : self.clients.openWindow(url);
    }),
  );
});
