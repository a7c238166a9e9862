"""How long the HTML report takes to open in headless Chromium, by number of examples (8 criteria each):
from navigation to the first page of examples rendered, median of 3 loads; and the file's size."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from trainer.html_report import write_report


def examples(n: int) -> list[dict]:
    crit = [
        {"criterion": f"Essential Criteria: criterion {k} about the ECG and troponin.", "points": 5 - k,
         "category": "essential", "met": k % 2 == 0, "p_met": 0.1 * k, "explanation": "The response says so.",
         "error": None}
        for k in range(8)
    ]  # fmt: skip
    return [
        {"id": f"e{i}", "conversation": [{"role": "user", "content": f"Chest pain question {i}. " * 20}],
         "response": f"An answer of a few sentences, number {i}. " * 12, "scheme": "hybrid", "reward": (i % 97) / 10,
         "reward_std": 0.1, "error": None, "tags": [], "criteria": crit}
        for i in range(n)
    ]  # fmt: skip


def main() -> None:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        print("bench_report: skipped (apt-get install chromium chromium-driver)")
        return
    from selenium import webdriver
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=driver_path))
    print("| examples | file (MB) | open to first page (s, median of 3) |")
    print("|---|---|---|")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in (100, 1000, 5000):
                path = write_report(Path(tmp) / f"r{n}.html", f"{n} examples", examples(n))
                times = []
                for _ in range(3):
                    driver.get("about:blank")
                    t = time.perf_counter()
                    driver.get(path.as_uri())
                    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.body.dataset.ready"))
                    times.append(time.perf_counter() - t)
                print(f"| {n} | {path.stat().st_size / 1e6:.1f} | {statistics.median(times):.2f} |")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
