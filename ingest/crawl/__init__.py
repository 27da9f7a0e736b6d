"""Crawling: sources, frontier, robots.txt, sitemaps, crawl state and the events a crawl yields."""
