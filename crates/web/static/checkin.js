// The check-in desk's camera: reads a personal QR code with the tablet's camera (qr-scanner,
// embedded) and submits it like a handheld scanner would. Without a camera, or without
// permission, the field stays for the scanner or the keyboard.
(function () {
  var button = document.getElementById('camera-start');
  var video = document.getElementById('checkin-video');
  var form = document.getElementById('checkin-form');
  var input = document.getElementById('checkin-code');
  var status = document.getElementById('camera-status');
  if (!button || !video || !form || !input || !window.QrScanner) return;
  button.hidden = false;
  var scanner = null;
  button.addEventListener('click', function () {
    if (scanner) return;
    video.hidden = false;
    scanner = new window.QrScanner(video, function (result) {
      var text = typeof result === 'string' ? result : result.data;
      if (!text) return;
      scanner.stop();
      input.value = text;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }, { returnDetailedScanResult: true, preferredCamera: 'environment', maxScansPerSecond: 10 });
    scanner.start().then(function () {
      if (status) status.textContent = status.dataset.on;
    }, function () {
      if (status) status.textContent = status.dataset.off;
      video.hidden = true;
      scanner = null;
    });
  });
})();
