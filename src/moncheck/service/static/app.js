// The seed's frontend telemetry on a real page: web-vitals (onLCP/onCLS/onINP/onFCP/onTTFB of
// web-vitals 5; the seed's getFID is gone), trackPageLoad, the frontend logger and Sentry with the
// filters of monitoring/errors/errors.yml (injected by the service as MONCHECK_CONFIG).
(function () {
  "use strict";
  var config = window.MONCHECK_CONFIG || {};
  window.logger = new window.FrontendLogger({ maxQueueSize: config.logQueueSize || 100 });

  if (config.dsn && window.Sentry) {
    var dropTypes = config.dropExceptionTypes || [];
    var dropEnvs = config.dropEnvironments || [];
    window.Sentry.init({
      dsn: config.dsn, environment: config.environment, release: config.release,
      sampleRate: config.errorSampleRate, defaultIntegrations: false,
      integrations: [window.Sentry.globalHandlersIntegration(), window.Sentry.dedupeIntegration()],
      sendClientReports: false,
      beforeSend: function (event) {
        if (dropEnvs.indexOf(event.environment || config.environment) >= 0) return null;
        var values = (event.exception && event.exception.values) || [];
        var raised = values[values.length - 1];  // the thrown one; values[0] is the innermost cause
        if (raised && dropTypes.indexOf(raised.type) >= 0) return null;
        return event;
      }
    });
  }

  function send(url, body) {
    // keepalive: the LCP report is sent as the page is hidden or left, which cancels plain fetches.
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
                        body: JSON.stringify(body), keepalive: true }).catch(function () {});
  }
  function sendToAnalytics(metric) {
    send("/api/analytics/web-vitals", { metric: metric.name, value: metric.value, rating: metric.rating,
                                        page: window.location.pathname, timestamp: Date.now() });
  }
  var wv = window.webVitals;
  if (wv) {
    wv.onLCP(sendToAnalytics);
    wv.onCLS(sendToAnalytics);
    wv.onINP(sendToAnalytics);
    wv.onFCP(sendToAnalytics);
    wv.onTTFB(sendToAnalytics);
  }
  window.addEventListener("load", function () {
    setTimeout(function () {
      var nav = performance.getEntriesByType("navigation")[0];
      if (!nav) return;
      send("/api/analytics/page-performance", {
        page: window.location.pathname,
        domContentLoaded: Math.max(0, nav.domContentLoadedEventEnd - nav.domContentLoadedEventStart),
        loadComplete: Math.max(0, nav.loadEventEnd - nav.loadEventStart),
        firstByte: Math.max(0, nav.responseStart - nav.requestStart),
        timestamp: Date.now()
      });
    }, 0);
  });
})();
