// The seed's FrontendLogger (frontend-logger.ts), with its mistakes fixed (monitoring/SEED-REVIEW.md 43, 44, 52):
// the queue is bounded (oldest entries dropped and counted), a non-2xx answer is a failure like a
// network error, one flush is in flight at a time with exponential back-off, no user id is sent,
// and the queue is flushed with sendBeacon when the page is hidden.
(function () {
  "use strict";
  function FrontendLogger(options) {
    options = options || {};
    this.queue = [];
    this.maxQueueSize = options.maxQueueSize || 100;   // the seed's flush size, now also the cap
    this.flushInterval = options.flushInterval || 30000;
    this.endpoint = options.endpoint || "/api/logs";
    this.inFlight = false;
    this.backoffMs = 0;
    this.nextTry = 0;
    this.counts = { sent: 0, dropped: 0, failures: 0, maxSeen: 0 };
    var self = this;
    setInterval(function () { self.flush(); }, this.flushInterval);
    window.addEventListener("error", function (event) {
      self.error("Unhandled error", {
        message: event.error && event.error.message, stack: event.error && event.error.stack,
        filename: event.filename, lineno: event.lineno, colno: event.colno
      });
    });
    window.addEventListener("unhandledrejection", function (event) {
      var r = event.reason;
      self.error("Unhandled promise rejection", { reason: String(r), stack: r && r.stack });
    });
    window.addEventListener("pagehide", function () { self.beacon(); });
  }
  FrontendLogger.prototype.push = function (entries) {
    // Newest first to keep: when over the cap the oldest go, and are counted.
    this.queue = this.queue.concat(entries);
    var over = this.queue.length - this.maxQueueSize;
    if (over > 0) {
      this.queue.splice(0, over);
      this.counts.dropped += over;
    }
    this.counts.maxSeen = Math.max(this.counts.maxSeen, this.queue.length);
  };
  FrontendLogger.prototype.flush = function () {
    var self = this;
    if (this.queue.length === 0 || this.inFlight || Date.now() < this.nextTry) return Promise.resolve();
    var logs = this.queue.splice(0, this.queue.length);
    this.inFlight = true;
    return fetch(this.endpoint, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ logs: logs }), keepalive: true
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      self.counts.sent += logs.length;
      self.backoffMs = 0;
      self.nextTry = 0;
    }).catch(function () {
      self.counts.failures += 1;
      self.queue = logs.concat(self.queue);  // back in front, then cut to the cap
      self.push([]);
      self.backoffMs = Math.min(self.backoffMs ? self.backoffMs * 2 : 1000, 60000);
      self.nextTry = Date.now() + self.backoffMs;
    }).then(function () { self.inFlight = false; });
  };
  FrontendLogger.prototype.beacon = function () {
    if (this.queue.length === 0 || !navigator.sendBeacon) return;
    var body = new Blob([JSON.stringify({ logs: this.queue })], { type: "application/json" });
    if (navigator.sendBeacon(this.endpoint, body)) this.queue = [];
  };
  FrontendLogger.prototype.log = function (level, message, context) {
    this.push([{ level: level, message: String(message).slice(0, 10000), context: context || {},
                 timestamp: Date.now(), url: window.location.pathname }]);
    if (level === "error" || this.queue.length >= this.maxQueueSize) this.flush();
  };
  FrontendLogger.prototype.info = function (m, c) { this.log("info", m, c); };
  FrontendLogger.prototype.warn = function (m, c) { this.log("warn", m, c); };
  FrontendLogger.prototype.error = function (m, c) { this.log("error", m, c); };
  FrontendLogger.prototype.stats = function () {
    return { queued: this.queue.length, max: this.maxQueueSize, inFlight: this.inFlight,
             sent: this.counts.sent, dropped: this.counts.dropped, failures: this.counts.failures,
             maxSeen: this.counts.maxSeen };
  };
  window.FrontendLogger = FrontendLogger;
})();
