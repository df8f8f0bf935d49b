#!/usr/bin/env python3
"""The day's cart funnel of bench/single-query.sql, in pandas: the benchmark's second yardstick
(bench/pipeline.ts), what an analyst would write without DuckDB. On the generator's days its CSV is
the query's, byte for byte (bench/pipeline.ts and test/bench-pandas.test.ts compare them). Two of
DuckDB's casts it does not copy, as no export has them: an INT64 written as a decimal ("27.6", which
DuckDB rounds; missing here) and a revenue sum of exactly half a cent (rounded half to even here).

Usage: python3 bench/pandas-funnel.py OUT.csv FILE.json.gz...

Each line is parsed with the json module (pandas' read_json cannot skip a bad line): a line that is
not a JSON object is skipped, and a value of the wrong type counts as missing, as DuckDB's read_json
with ignore_errors does. The few fields the funnel needs go into a DataFrame per chunk of lines,
reduced to sessions at once so that memory holds sessions, not events.
"""
import gzip
import json
import sys
from datetime import datetime

import pandas as pd

CHUNK_LINES = 200_000
SESSION_KEYS = ['date', 'user_pseudo_id', 'session_id']


def varchar(value):
    """DuckDB's read of a JSON value into VARCHAR: a string as is, anything else as its JSON text."""
    return value if value is None or isinstance(value, str) else json.dumps(value)


def as_number(value, convert):
    """A JSON value as `convert` (int or float) reads it, as DuckDB's typed read does: a number or a
    numeric string (BigQuery's JSON export writes INT64s as strings); a boolean or anything else is missing."""
    if isinstance(value, bool):
        return None
    try:
        return convert(value)
    except (TypeError, ValueError):
        return None


def session_id_of(event):
    """int_value of the first event_params entry keyed ga_session_id."""
    params = event.get('event_params')
    if not isinstance(params, list):
        return None
    for param in params:
        if isinstance(param, dict) and param.get('key') == 'ga_session_id':
            value = param.get('value')
            return as_number(value.get('int_value'), int) if isinstance(value, dict) else None
    return None


def parse_date(text):
    """try_strptime(event_date, '%Y%m%d'): 99991231 included, which pandas' datetime64 cannot hold."""
    try:
        return datetime.strptime(text, '%Y%m%d').date()
    except (TypeError, ValueError):
        return None


def event_chunks(paths):
    """The funnel's fields of every event, CHUNK_LINES lines at a time, as column lists."""
    columns = {'event_date': [], 'event_name': [], 'user_pseudo_id': [], 'session_id': [], 'revenue': []}
    lines = 0
    for path in paths:
        with gzip.open(path, 'rb') as file:
            for line in file:
                lines += 1
                if lines % CHUNK_LINES == 0:
                    yield columns
                    columns = {name: [] for name in columns}
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                ecommerce = event.get('ecommerce')
                columns['event_date'].append(varchar(event.get('event_date')))
                columns['event_name'].append(varchar(event.get('event_name')))
                columns['user_pseudo_id'].append(varchar(event.get('user_pseudo_id')))
                columns['session_id'].append(session_id_of(event))
                columns['revenue'].append(as_number(ecommerce.get('purchase_revenue'), float) if isinstance(ecommerce, dict) else None)
    yield columns


def sessions_of(columns):
    """One chunk's events reduced to sessions: add_to_cart and purchase events counted, purchase revenue summed."""
    events = pd.DataFrame({
        'event_date': pd.Series(columns['event_date'], dtype=object),
        'event_name': pd.Series(columns['event_name'], dtype=object),
        'user_pseudo_id': pd.Series(columns['user_pseudo_id'], dtype=object),
        'session_id': pd.Series(columns['session_id'], dtype='Int64'),
        'revenue': pd.Series(columns['revenue'], dtype='float64'),
    })
    dates = {text: parse_date(text) for text in events['event_date'].dropna().unique()}
    events['date'] = events['event_date'].map(dates)
    events = events.dropna(subset=['date', 'session_id'])
    purchase = events['event_name'].eq('purchase')
    events = events.assign(
        added=events['event_name'].eq('add_to_cart').astype('int64'),
        purchased=purchase.astype('int64'),
        revenue=events['revenue'].where(purchase),
    )
    return events.groupby(SESSION_KEYS, dropna=False, sort=False)[['added', 'purchased', 'revenue']].sum(min_count=1).reset_index()


def funnel(paths):
    partial = pd.concat([sessions_of(chunk) for chunk in event_chunks(paths)], ignore_index=True)
    # A session can straddle chunks: its partial rows add up.
    sessions = partial.groupby(SESSION_KEYS, dropna=False, sort=False)[['added', 'purchased', 'revenue']].sum(min_count=1)
    added, purchased = sessions['added'] > 0, sessions['purchased'] > 0
    by_date = sessions.index.get_level_values('date')
    result = pd.DataFrame({
        'sessions': added.groupby(by_date).size(),
        'sessions_with_add_to_cart': added.groupby(by_date).sum(),
        'abandoned_carts': (added & ~purchased).groupby(by_date).sum(),
        'purchases': purchased.groupby(by_date).sum(),
        # NULL where no purchase had a revenue, as SQL's sum.
        'revenue': sessions['revenue'].groupby(by_date).sum(min_count=1).round(2),
    })
    result.index.name = 'date'
    return result.sort_index()


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit('usage: pandas-funnel.py OUT.csv FILE.json.gz...')
    out, *paths = sys.argv[1:]
    funnel(paths).to_csv(out, lineterminator='\n')
