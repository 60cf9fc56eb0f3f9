#!/usr/bin/env python3
"""
An independent recomputation of the invoices in test/domain/billing/invoice.test.ts,
written apart from the TypeScript code with Python's Decimal (60 digits), to recheck
the golden figures by hand: STF Tema 69 gross-up per line, no rounding while computing,
each printed figure rounded by ABNT NBR 5891 (ROUND_HALF_EVEN; REN 1.000/2021 art. 657),
the total the sum of the printed line values plus the CIP.

Run: python3 test/reference/faturas.py
"""
from decimal import Decimal as D, getcontext, ROUND_HALF_EVEN

getcontext().prec = 60
CENT = D('0.01')


def printed(value, places=CENT):
    return value.quantize(places, rounding=ROUND_HALF_EVEN)


def invoice(lines, icms, pis, cofins, cip):
    """lines: (description, quantity kWh, unit price R$/kWh) exact Decimals."""
    rows, total, taxes = [], D(0), {'icms': D(0), 'pis': D(0), 'cofins': D(0), 'base_icms': D(0), 'base_pc': D(0)}
    for name, quantity, price in lines:
        net = quantity * price
        base_pc = net / (1 - pis - cofins)
        gross = base_pc / (1 - icms)
        row = {
            'item': name,
            'kwh': printed(quantity, D('0.001')),
            'net': printed(net),
            'base_pc': printed(base_pc),
            'pis': printed(base_pc * pis),
            'cofins': printed(base_pc * cofins),
            'base_icms': printed(gross),
            'icms': printed(gross * icms),
            'valor': printed(gross),
            'preco_com_tributos': printed(price / (1 - pis - cofins) / (1 - icms), D('0.00000001')),
        }
        rows.append(row)
        total += row['valor']
        for key in ('icms', 'pis', 'cofins', 'base_icms'):
            taxes[key] += row[key]
        taxes['base_pc'] += row['base_pc']
    return rows, taxes, total + cip


def show(title, lines, icms, pis, cofins, cip):
    rows, taxes, total = invoice(lines, icms, pis, cofins, cip)
    print(f'== {title}')
    for row in rows:
        print('  ', ' '.join(f'{k}={v}' for k, v in row.items()))
    print('   taxes', ' '.join(f'{k}={v}' for k, v in taxes.items()), 'subtotal', sum(r['net'] for r in rows), 'total', total)


P = D('0.70697')  # TE 294,59 + TUSD 412,38 R$/MWh

# 1. Convencional below the minimum (24,5 of 30 kWh), a bandeira change inside a 31-day cycle (22 days of May, 9 of June).
show('convencional, minimum, two bandeiras', [
    ('energia', D('24.5'), P),
    ('disponibilidade', D('5.5'), P),
    ('bandeira amarela 05/2026', D(30) * 22 / 31, D('0.01885')),
    ('bandeira vermelha 1 06/2026', D(30) * 9 / 31, D('0.04463')),
], D('0.18'), D('0.0112'), D('0.0516'), D('5.00'))

# 2. Tarifa social (the pre-2025 bands) at 150 kWh, verde: the discounts on 30/70/50 kWh.
show('tarifa social, old bands, 150 kWh', [
    ('energia', D(150), P),
    ('desconto ate 30', D(30), -P * D('0.65')),
    ('desconto 31-100', D(70), -P * D('0.40')),
    ('desconto 101-220', D(50), -P * D('0.10')),
], D('0.18'), D('0.0112'), D('0.0516'), D('12.50'))

# 3. A tariff change inside the cycle (day 16 of 30) below the minimum: the complement pro rata too.
P2 = D('0.75841')
show('tariff change: energy and complement pro rata', [
    ('energia 1', D('20') * 15 / 30, P),
    ('energia 2', D('20') * 15 / 30, P2),
    ('complemento 1', D('10') * 15 / 30, P),
    ('complemento 2', D('10') * 15 / 30, P2),
], D('0.18'), D('0.0112'), D('0.0516'), D('5.00'))

# 4. Tarifa social exempt from ICMS (MG: at most 3 kWh a day), 60 kWh in 30 days, old bands.
show('tarifa social exempt from ICMS, 60 kWh', [
    ('energia', D(60), P),
    ('desconto ate 30', D(30), -P * D('0.65')),
    ('desconto 31-100', D(30), -P * D('0.40')),
], D('0'), D('0.0112'), D('0.0516'), D('5.00'))

# 5. Tarifa Branca (bifásica, minimum 50 kWh) 30 kWh by postos; the complement at fora de ponta; April's amarela on 19 of 31 days.
show('tarifa branca, minimum, bandeira on part of the cycle', [
    ('ponta', D(5), D('1.88')),
    ('intermediario', D(10), D('1.20')),
    ('fora de ponta', D(15), D('0.62')),
    ('complemento', D(20), D('0.62')),
    ('bandeira amarela 04/2026', D(50) * 19 / 31, D('0.01885')),
], D('0.18'), D('0.0112'), D('0.0516'), D('5.00'))

# 6. The shipped ANEEL sample (CEMIG-D): 150 kWh from 10/05 to 10/06/2026, REH 3.459/2025 for 18 days and REH 3.589/2026 for 13;
#    bandeira amarela in May (22 days) and June (9 days). PIS/COFINS of the test fixture.
show('CEMIG-D sample, 150 kWh, two tariffs, amarela', [
    ('energia REH 3.459', D(150) * 18 / 31, D('0.85858')),
    ('energia REH 3.589', D(150) * 13 / 31, D('0.90329')),
    ('bandeira 05/2026', D(150) * 22 / 31, D('0.01885')),
    ('bandeira 06/2026', D(150) * 9 / 31, D('0.01885')),
], D('0.18'), D('0.0112'), D('0.0516'), D('12.50'))

# Lei 15.235/2025 (cycle 10/06-10/07/2026, 30 days, verde, monofásica): Tarifa Social rows TE 0,29702 + TUSD 0,41831 = 0,71533;
# Desconto Social faixa 01 0,30876 + 0,42767 = 0,73643, faixa 02 0,31021 + 0,59308 = 0,90329 (CEMIG-D, REH 3.589/2026).
TS = D('0.71533')
show('7. Tarifa Social 60 kWh: free up to 80, ICMS exempt (2 kWh a day)', [
    ('energia faixa 1', D(60), TS),
    ('beneficio 100% ate 80', D(60), -TS),
], D(0), D('0.0112'), D('0.0516'), D('5.00'))
show('8. Tarifa Social 150 kWh: 80 free, 70 at the tariff, ICMS 18% (5 kWh a day)', [
    ('energia faixa 1', D(80), TS),
    ('energia faixa 2', D(70), TS),
    ('beneficio 100% ate 80', D(80), -TS),
], D('0.18'), D('0.0112'), D('0.0516'), D('12.50'))
show('9. Desconto Social 100 kWh: all in faixa 1', [
    ('energia faixa 1', D(100), D('0.73643')),
], D('0.18'), D('0.0112'), D('0.0516'), D('5.00'))
show('10. Desconto Social 150 kWh: 120 in faixa 1, 30 in faixa 2', [
    ('energia faixa 1', D(120), D('0.73643')),
    ('energia faixa 2', D(30), D('0.90329')),
], D('0.18'), D('0.0112'), D('0.0516'), D('12.50'))
show('11. Tarifa Social 20 kWh, monofásica: the complement to 30 kWh in faixa 1, all free', [
    ('energia faixa 1', D(20), TS),
    ('complemento faixa 1', D(10), TS),
    ('beneficio', D(30), -TS),
], D(0), D('0.0112'), D('0.0516'), D('5.00'))
