import type { SeededRandom } from './random.js';

export interface CatalogItem {
  item_id: string;
  item_name: string;
  item_brand: string;
  item_category: string;
  item_category2: string;
  price: number;
}

const CATEGORIES: Record<string, { nouns: string[]; minPrice: number; maxPrice: number }> = {
  Vestuário: { nouns: ['Camiseta', 'Calça Jeans', 'Moletom', 'Jaqueta', 'Vestido', 'Bermuda'], minPrice: 39.9, maxPrice: 299.9 },
  Calçados: { nouns: ['Tênis de Corrida', 'Sandália', 'Bota', 'Chinelo', 'Sapatênis'], minPrice: 49.9, maxPrice: 599.9 },
  'Casa & Cozinha': { nouns: ['Caneca', 'Panela', 'Jogo de Toalhas', 'Luminária', 'Garrafa Térmica'], minPrice: 19.9, maxPrice: 449.9 },
  Acessórios: { nouns: ['Mochila', 'Boné', 'Óculos de Sol', 'Relógio', 'Carteira'], minPrice: 29.9, maxPrice: 899.9 },
  Beleza: { nouns: ['Perfume', 'Hidratante', 'Protetor Solar', 'Shampoo', 'Sérum Facial'], minPrice: 14.9, maxPrice: 349.9 },
};
const ADJECTIVES = ['Básica', 'Clássico', 'Esportiva', 'Algodão', 'Edição Limitada', 'Coração', 'Ação', 'Verão', 'Inverno', 'Premium'];
const BRANDS = ['Açaí Co.', 'Brasilis', 'Maré', 'Ipê', 'São Jorge', 'Cajú'];

/**
 * Names a spreadsheet would run as a formula, or that need CSV quoting: the demo carries a few so
 * that the export's injection guard and quoting are exercised on every run.
 */
const HOSTILE_NAMES = [
  '=HYPERLINK("http://example.invalid","clique aqui")',
  '+55 Capinha de Celular',
  '-10% Kit Presente',
  '@SUM(A1:A9) Caneca',
  'Caneca "Café, com leite"',
  'Kit\nPresente de Natal',
];

/** A deterministic catalog; rank 0 is the most popular item under the Zipf sampler. */
export function buildCatalog(random: SeededRandom, size: number): CatalogItem[] {
  const categoryNames = Object.keys(CATEGORIES);
  const items: CatalogItem[] = [];
  for (let i = 0; i < size; i++) {
    const category = random.pick(categoryNames);
    const spec = CATEGORIES[category]!;
    const hostile = i % 97 === 13 ? HOSTILE_NAMES[Math.floor(i / 97) % HOSTILE_NAMES.length] : undefined;
    // Log-uniform prices: many cheap items, a long tail of expensive ones, always whole cents.
    const price = Math.exp(Math.log(spec.minPrice) + random.next() * (Math.log(spec.maxPrice) - Math.log(spec.minPrice)));
    items.push({
      item_id: `SKU_${String(10000 + i)}`,
      item_name: hostile ?? `${random.pick(spec.nouns)} ${random.pick(ADJECTIVES)}`,
      item_brand: random.pick(BRANDS),
      item_category: category,
      item_category2: random.pick(ADJECTIVES),
      price: Math.round(price * 100) / 100,
    });
  }
  return items;
}
